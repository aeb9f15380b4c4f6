package io.modelpress.inference;

/**
 * One model measured in ONNX Runtime through DJL.
 *
 * @param label what was measured, e.g. "original"
 * @param loadMillis time to create the session
 * @param sessionMemoryBytes resident memory the process gained while loading and warming up the session
 * @param batchSize rows per run
 * @param p50Millis median latency of one run
 * @param p90Millis 90th percentile latency
 * @param p99Millis 99th percentile latency
 * @param meanMillis mean latency
 * @param throughputPerSecond rows per second at the median latency
 * @param iterations measured runs
 */
public record ModelBenchmark(String label, double loadMillis, long sessionMemoryBytes, int batchSize, double p50Millis,
        double p90Millis, double p99Millis, double meanMillis, double throughputPerSecond, int iterations) {
}

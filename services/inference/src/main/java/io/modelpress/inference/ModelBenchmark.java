package io.modelpress.inference;

import java.util.Optional;

/**
 * One model timed on a raw ONNX Runtime session, in the same rounds as the models it is compared with.
 * Percentiles are nearest-rank over the measured rounds, warm-up excluded.
 *
 * @param label what was measured, e.g. "original"
 * @param loadMillis time to create the session
 * @param sessionPeakBytes the session's own peak memory, measured in a fresh child process (see {@link SessionMemory});
 *     empty when not asked for or not measurable here
 * @param batchSize rows per run
 * @param p10Millis 10th percentile latency of one run
 * @param p50Millis median latency of one run
 * @param p90Millis 90th percentile latency
 * @param p99Millis 99th percentile latency
 * @param meanMillis mean latency
 * @param throughputPerSecond rows per second at the median latency
 * @param rounds measured runs (one per round)
 * @param stable whether this model's median met the stop rule when timing stopped (false: it stopped at the round or
 *     time cap with the median still moving)
 */
public record ModelBenchmark(String label, double loadMillis, Optional<Long> sessionPeakBytes, int batchSize,
        double p10Millis, double p50Millis, double p90Millis, double p99Millis, double meanMillis,
        double throughputPerSecond, int rounds, boolean stable) {
}

package io.modelpress.inference;

/**
 * How a benchmark runs.
 *
 * @param threads intra-op threads (0: ONNX Runtime's default, one per core)
 * @param warmup runs before measuring, not counted
 * @param iterations measured runs per model
 */
public record BenchmarkSettings(int threads, int warmup, int iterations) {

    public static final BenchmarkSettings DEFAULT = new BenchmarkSettings(0, 10, 50);

    public BenchmarkSettings {
        if (threads < 0 || warmup < 0 || iterations < 1) {
            throw new IllegalArgumentException("threads and warmup must be ≥ 0 and iterations ≥ 1");
        }
    }
}

package io.modelpress.inference;

/**
 * How a benchmark runs. Every model runs once per round, the models in a rotating order; timing
 * stops after at least {@code minRounds} rounds once every model's median is stable (see
 * {@link TimingRounds#stable}), or at {@code maxRounds}, or once {@code maxSeconds} have passed since
 * measuring began, whichever comes first (the minimum is always run).
 *
 * @param threads intra-op threads (0: ONNX Runtime's default, one per core)
 * @param warmup rounds before measuring, not counted
 * @param minRounds measured rounds at least
 * @param maxRounds measured rounds at most
 * @param stableWithin the median counts as stable when the median of the last half of the rounds is within this
 *     fraction of the median of all rounds (0.02: 2 %)
 * @param maxSeconds no round starts after this long since measuring began, once {@code minRounds} are done
 * @param memory whether each model's session memory is measured too, in a fresh child process
 */
public record BenchmarkSettings(int threads, int warmup, int minRounds, int maxRounds, double stableWithin,
        int maxSeconds, boolean memory) {

    /** The default stop rule: the medians of the last half and of all rounds within 2 % of each other. */
    public static final double STABLE_WITHIN = 0.02;

    /** The default time cap once the minimum rounds are done. */
    public static final int MAX_SECONDS = 60;

    public static final BenchmarkSettings DEFAULT = of(0, 10, 50);

    public BenchmarkSettings {
        if (threads < 0 || warmup < 0 || minRounds < 1 || maxRounds < minRounds || maxSeconds < 1) {
            throw new IllegalArgumentException("threads and warmup must be ≥ 0, minRounds ≥ 1, maxRounds ≥ minRounds"
                    + " and maxSeconds ≥ 1");
        }
        if (!(stableWithin > 0 && stableWithin < 1)) {
            throw new IllegalArgumentException("stableWithin must be a fraction between 0 and 1, not " + stableWithin);
        }
    }

    /**
     * At least {@code minRounds} rounds, at most ten times as many, the default stop rule and time cap, memory
     * measured.
     */
    public static BenchmarkSettings of(int threads, int warmup, int minRounds) {
        return new BenchmarkSettings(threads, warmup, minRounds, 10 * minRounds, STABLE_WITHIN, MAX_SECONDS, true);
    }

    /** These settings with the rounds at most {@code rounds} and the time cap {@code seconds}. */
    public BenchmarkSettings capped(int rounds, int seconds) {
        return new BenchmarkSettings(threads, warmup, minRounds, Math.max(minRounds, rounds), stableWithin, seconds,
                memory);
    }

    /** These settings without the memory measurement (latency alone, as when candidates are compared). */
    public BenchmarkSettings withoutMemory() {
        return new BenchmarkSettings(threads, warmup, minRounds, maxRounds, stableWithin, maxSeconds, false);
    }
}

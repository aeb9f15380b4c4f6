package io.modelpress.inference;

import java.util.Arrays;
import java.util.List;

/** The arithmetic of timing rounds: the order models run in, when to stop, and percentiles. */
final class TimingRounds {

    /** No verdict on fewer rounds: the last half of three runs says nothing of a median. */
    static final int FEWEST_FOR_VERDICT = 4;

    private TimingRounds() {
    }

    /**
     * The position of the model that runs {@code slot}-th in {@code round}: the order rotates by one each round, so
     * that no model always runs right after another (whose caches and frequency it would inherit) or always first.
     */
    static int modelAt(int round, int slot, int models) {
        return (round + slot) % models;
    }

    /**
     * Whether the median of these run times (in the order they were taken) has settled: the median of the last half
     * of the runs lies within {@code within} (a fraction) of the median of all of them. A machine that drifts (heats,
     * gets busier) moves the recent median away from the overall one, and timing goes on.
     */
    static boolean stable(List<Double> millis, double within) {
        int n = millis.size();
        if (n < FEWEST_FOR_VERDICT) {
            return false;
        }
        double all = median(millis);
        double recent = median(millis.subList(n / 2, n));
        return Math.abs(recent - all) <= within * all;
    }

    static double median(List<Double> values) {
        return percentile(sorted(values), 0.5);
    }

    static double[] sorted(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(sorted);
        return sorted;
    }

    /**
     * The nearest-rank percentile of sorted values: the smallest value with at least a fraction {@code q} of all
     * values at or below it (0 for none).
     */
    static double percentile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        int index = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}

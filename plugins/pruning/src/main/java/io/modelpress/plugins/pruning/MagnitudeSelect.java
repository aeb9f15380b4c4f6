package io.modelpress.plugins.pruning;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Finds the k-th smallest magnitude over many float arrays and zeroes the k smallest, in linear
 * time and without sorting: the magnitude's IEEE bits order like the magnitudes, so two histogram
 * passes (high 15 bits, then low 16 bits within the chosen bucket) give the exact value. Both
 * passes run in parallel over slices of the arrays.
 */
final class MagnitudeSelect {

    private static final int SLICE = 1 << 18;
    private static final int HIGH_BUCKETS = 1 << 15;
    private static final int LOW_BUCKETS = 1 << 16;

    private MagnitudeSelect() {
    }

    /**
     * The cut: the k-th smallest magnitude (as |float| bits), how many magnitudes lie strictly
     * below it, and how many equal it.
     */
    record Cut(int bits, long below, long equal) {
        float magnitude() {
            return Float.intBitsToFloat(bits);
        }
    }

    private record Slice(float[] values, int from, int to) {
    }

    /** The cut for the {@code k}-th smallest magnitude, 1 ≤ k ≤ total count. */
    static Cut kthSmallest(List<float[]> arrays, long k) {
        List<Slice> slices = slices(arrays);
        long total = slices.stream().mapToLong(s -> s.to() - s.from()).sum();
        if (k < 1 || k > total) {
            throw new IllegalArgumentException("k = " + k + " is outside 1.." + total);
        }
        long[] high = slices.parallelStream().collect(() -> new long[HIGH_BUCKETS], (h, s) -> {
            for (int i = s.from(); i < s.to(); i++) {
                h[magnitudeBits(s.values()[i]) >>> 16]++;
            }
        }, MagnitudeSelect::add);
        int bucket = 0;
        long below = 0;
        while (below + high[bucket] < k) {
            below += high[bucket++];
        }
        int chosen = bucket;
        long[] low = slices.parallelStream().collect(() -> new long[LOW_BUCKETS], (h, s) -> {
            for (int i = s.from(); i < s.to(); i++) {
                int bits = magnitudeBits(s.values()[i]);
                if (bits >>> 16 == chosen) {
                    h[bits & 0xffff]++;
                }
            }
        }, MagnitudeSelect::add);
        int lowBits = 0;
        while (below + low[lowBits] < k) {
            below += low[lowBits++];
        }
        return new Cut(chosen << 16 | lowBits, below, low[lowBits]);
    }

    /**
     * Sets exactly {@code k} smallest magnitudes to zero (values already zero count among them):
     * everything below the cut, then values equal to it in array order until k are reached.
     */
    static void zeroSmallest(List<float[]> arrays, long k, Cut cut) {
        long[] equal = IntStream.range(0, arrays.size()).parallel().mapToLong(a -> {
            float[] values = arrays.get(a);
            long ties = 0;
            for (int i = 0; i < values.length; i++) {
                int bits = magnitudeBits(values[i]);
                if (bits < cut.bits()) {
                    values[i] = 0f;
                } else if (bits == cut.bits()) {
                    ties++;
                }
            }
            return ties;
        }).toArray();
        long remaining = k - cut.below();
        for (int a = 0; a < arrays.size() && remaining > 0; a++) {
            if (equal[a] == 0) {
                continue;
            }
            float[] values = arrays.get(a);
            for (int i = 0; i < values.length && remaining > 0; i++) {
                if (magnitudeBits(values[i]) == cut.bits()) {
                    values[i] = 0f;
                    remaining--;
                }
            }
        }
    }

    /**
     * Layer-adaptive magnitude scores of one layer: each weight's square over the sum of the squares of the weights
     * at least as large (ties in array order). Zeros score 0 and the largest weight 1. Sorts one primitive array of
     * (magnitude bits, index) keys.
     */
    static float[] layerAdaptiveScores(float[] values) {
        long[] keys = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            keys[i] = (long) magnitudeBits(values[i]) << 32 | i;
        }
        java.util.Arrays.sort(keys);
        float[] scores = new float[values.length];
        double larger = 0;
        for (int r = keys.length - 1; r >= 0; r--) {
            int i = (int) keys[r];
            double square = (double) values[i] * values[i];
            larger += square;
            scores[i] = larger > 0 ? (float) (square / larger) : 0f;
        }
        return scores;
    }

    /** Number of zeros (either sign) in the arrays. */
    static long zeros(List<float[]> arrays) {
        return arrays.parallelStream().mapToLong(MagnitudeSelect::zeros).sum();
    }

    static long zeros(float[] values) {
        long count = 0;
        for (float value : values) {
            if (value == 0f) {
                count++;
            }
        }
        return count;
    }

    /** |value| as ordered bits; NaN sorts above every number, so it is never the first to go. */
    static int magnitudeBits(float value) {
        return Float.floatToRawIntBits(value) & 0x7fffffff;
    }

    private static List<Slice> slices(List<float[]> arrays) {
        List<Slice> slices = new ArrayList<>();
        for (float[] values : arrays) {
            for (int from = 0; from < values.length; from += SLICE) {
                slices.add(new Slice(values, from, Math.min(values.length, from + SLICE)));
            }
        }
        return slices;
    }

    private static void add(long[] into, long[] from) {
        for (int i = 0; i < into.length; i++) {
            into[i] += from[i];
        }
    }
}

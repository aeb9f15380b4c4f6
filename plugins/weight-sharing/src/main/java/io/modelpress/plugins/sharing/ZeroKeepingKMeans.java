package io.modelpress.plugins.sharing;

import java.util.function.DoubleUnaryOperator;

/**
 * k-means that leaves pruned weights pruned, as Deep Compression clusters only the weights that
 * survive pruning: exact zeros get a codebook entry of exactly 0.0 of their own, and the other
 * values are clustered into the remaining k − 1 entries and never map to it. Plain k-means often
 * puts the zeros and the small kept weights around them in one cluster, whose non-zero centre
 * every pruned weight would then decode to.
 *
 * <p>When plain k-means of all the values already gives exactly the zeros a cluster of their own at
 * 0.0 (typical once zeros are a large share), that clustering is already of this form, with a
 * seeding that saw every value: it is kept as it is, and only the other layers are clustered again
 * without their zeros.
 */
final class ZeroKeepingKMeans {

    private ZeroKeepingKMeans() {
    }

    /** How many values are exactly 0 (either sign). */
    static int zeros(float[] values) {
        int zeros = 0;
        for (float v : values) {
            if (v == 0f) {
                zeros++;
            }
        }
        return zeros;
    }

    /**
     * Clusters {@code values} into at most {@code k} (2..256) shared values, one of them 0.0 for
     * exactly the values that are 0; the arguments are those of {@link KMeans1D#cluster}.
     */
    static KMeans1D.Result cluster(float[] values, int k, long seed, int maxIterations, double tolerance,
            DoubleUnaryOperator storage) {
        if (k < 2 || k > 256) {
            throw new IllegalArgumentException("k must be 2..256 to keep an entry for zero, not " + k);
        }
        KMeans1D.Result plain = KMeans1D.cluster(values, k, seed, maxIterations, tolerance, storage);
        if (decodesExactlyTheZerosToZero(values, plain)) {
            return plain;
        }
        int zeros = zeros(values); // fewer than all: all zeros are one exact cluster of plain k-means
        float[] survivors = new float[values.length - zeros];
        int next = 0;
        for (float v : values) {
            if (v != 0f) {
                survivors[next++] = v;
            }
        }
        KMeans1D.Result kept = KMeans1D.cluster(survivors, k - 1, seed, maxIterations, tolerance, storage);
        return withZeroEntry(values, kept);
    }

    /** Whether the values that decode to 0.0 are exactly the values that are 0. */
    static boolean decodesExactlyTheZerosToZero(float[] values, KMeans1D.Result result) {
        float[] codebook = result.codebook();
        byte[] indices = result.indices();
        for (int i = 0; i < values.length; i++) {
            if ((values[i] == 0f) != (codebook[indices[i] & 0xff] == 0f)) {
                return false;
            }
        }
        return true;
    }

    /** Inserts 0.0 into {@code kept}'s ascending codebook and maps the zeros of {@code values} to it. */
    private static KMeans1D.Result withZeroEntry(float[] values, KMeans1D.Result kept) {
        float[] centres = kept.codebook();
        int zeroAt = 0;
        while (zeroAt < centres.length && centres[zeroAt] < 0f) {
            zeroAt++;
        }
        float[] codebook = new float[centres.length + 1];
        System.arraycopy(centres, 0, codebook, 0, zeroAt);
        System.arraycopy(centres, zeroAt, codebook, zeroAt + 1, centres.length - zeroAt);
        byte[] survivorIndices = kept.indices();
        byte[] indices = new byte[values.length];
        int next = 0;
        for (int i = 0; i < values.length; i++) {
            if (values[i] == 0f) {
                indices[i] = (byte) zeroAt;
            } else {
                int index = survivorIndices[next++] & 0xff;
                indices[i] = (byte) (index < zeroAt ? index : index + 1);
            }
        }
        // zeros add no error and no square: scale the survivors' means to all values
        double share = (double) survivorIndices.length / values.length;
        return new KMeans1D.Result(codebook, indices, kept.mse() * share, kept.meanSquare() * share, kept.used() + 1,
                kept.iterations());
    }
}

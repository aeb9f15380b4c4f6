package io.modelpress.plugins.sharing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

class ZeroKeepingKMeansTest {

    private static final DoubleUnaryOperator FLOAT = v -> (float) v;

    /** Bell-shaped weights with the smallest-magnitude {@code share} set to 0, as magnitude pruning leaves them. */
    static float[] pruned(int n, double share, long seed) {
        float[] values = KMeans1DTest.gaussian(n, seed);
        float[] magnitudes = new float[n];
        for (int i = 0; i < n; i++) {
            magnitudes[i] = Math.abs(values[i]);
        }
        java.util.Arrays.sort(magnitudes);
        float threshold = magnitudes[(int) (share * n)];
        for (int i = 0; i < n; i++) {
            if (Math.abs(values[i]) < threshold) {
                values[i] = i % 2 == 0 ? 0f : -0f; // either sign is a pruned zero
            }
        }
        return values;
    }

    @Test
    void manyZerosKeepTheClusterPlainKMeansGivesThem() {
        float[] values = pruned(6000, 0.3, 1);
        assertEquals(1800, ZeroKeepingKMeans.zeros(values));
        KMeans1D.Result plain = KMeans1D.cluster(values, 16, 7, 100, 1e-6, FLOAT);
        assertTrue(ZeroKeepingKMeans.decodesExactlyTheZerosToZero(values, plain));

        KMeans1D.Result result = ZeroKeepingKMeans.cluster(values, 16, 7, 100, 1e-6, FLOAT);
        assertArrayEquals(plain.codebook(), result.codebook());
        assertArrayEquals(plain.indices(), result.indices());
        assertSurvivorsAreAFixedPointBesideZero(values, result);
    }

    @Test
    void fewZerosGetAnEntryOfTheirOwnAndTheSurvivorsTheOthers() {
        // the failure this class exists for: with 10% zeros, plain k-means gives them a non-zero centre
        float[] values = pruned(6000, 0.1, 2);
        KMeans1D.Result plain = KMeans1D.cluster(values, 16, 7, 100, 1e-6, FLOAT);
        assertFalse(ZeroKeepingKMeans.decodesExactlyTheZerosToZero(values, plain));

        KMeans1D.Result result = ZeroKeepingKMeans.cluster(values, 16, 7, 100, 1e-6, FLOAT);
        int zeroEntry = assertSurvivorsAreAFixedPointBesideZero(values, result);
        // the other 15 entries are k-means of the survivors alone, with the same seed
        float[] survivors = new float[values.length - ZeroKeepingKMeans.zeros(values)];
        int next = 0;
        for (float v : values) {
            if (v != 0f) {
                survivors[next++] = v;
            }
        }
        float[] others = new float[15];
        System.arraycopy(result.codebook(), 0, others, 0, zeroEntry);
        System.arraycopy(result.codebook(), zeroEntry + 1, others, zeroEntry, 15 - zeroEntry);
        assertArrayEquals(KMeans1D.cluster(survivors, 15, 7, 100, 1e-6, FLOAT).codebook(), others);
        assertEquals(16, result.used());
    }

    /**
     * One entry is exactly 0.0 and holds exactly the zeros; every other entry is the mean of its values,
     * each the nearest non-zero entry to them; the MSE is the one reported. Returns the zero entry.
     */
    private static int assertSurvivorsAreAFixedPointBesideZero(float[] values, KMeans1D.Result result) {
        float[] codebook = result.codebook();
        int zeroEntry = -1;
        for (int j = 0; j < codebook.length; j++) {
            if (codebook[j] == 0f) {
                assertEquals(-1, zeroEntry, "one entry of 0.0");
                zeroEntry = j;
            }
            assertTrue(j == 0 || codebook[j - 1] < codebook[j], "ascending");
        }
        double[] sums = new double[codebook.length];
        int[] counts = new int[codebook.length];
        double error = 0;
        for (int i = 0; i < values.length; i++) {
            int index = result.indices()[i] & 0xff;
            assertEquals(values[i] == 0f, index == zeroEntry, "value " + i + " = " + values[i]);
            if (values[i] != 0f) {
                for (int j = 0; j < codebook.length; j++) {
                    assertTrue(j == zeroEntry || Math.abs(values[i] - codebook[index]) <= Math.abs(values[i] - codebook[j])
                            + 1e-7, "value " + i + " sits with its nearest non-zero entry");
                }
            }
            sums[index] += values[i];
            counts[index]++;
            double d = values[i] - codebook[index];
            error += d * d;
        }
        for (int j = 0; j < codebook.length; j++) {
            if (j != zeroEntry && counts[j] > 0) {
                assertEquals(sums[j] / counts[j], codebook[j], 1e-6, "entry " + j + " is the mean of its values");
            }
        }
        assertEquals(error / values.length, result.mse(), 1e-12);
        return zeroEntry;
    }

    @Test
    void fewDistinctSurvivorsAreKeptExactlyBesideZero() {
        float[] values = new float[1000];
        for (int i = 0; i < values.length; i++) {
            values[i] = i % 4 == 0 ? 0f : (i % 4) * 0.5f - 1.25f; // 0 and -0.75, -0.25, 0.25
        }
        KMeans1D.Result result = ZeroKeepingKMeans.cluster(values, 4, 1, 100, 1e-6, FLOAT);
        assertArrayEquals(new float[] {-0.75f, -0.25f, 0f, 0.25f}, result.codebook());
        assertEquals(0.0, result.mse());
    }

    @Test
    void anAllZeroWeightIsOneEntryOfZero() {
        KMeans1D.Result result = ZeroKeepingKMeans.cluster(new float[300], 8, 1, 100, 1e-6, FLOAT);
        assertArrayEquals(new float[] {0f}, result.codebook());
        assertArrayEquals(new byte[300], result.indices());
        assertEquals(0.0, result.mse());
        assertEquals(1, result.used());
    }
}

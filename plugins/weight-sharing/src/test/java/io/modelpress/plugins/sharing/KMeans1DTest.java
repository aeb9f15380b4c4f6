package io.modelpress.plugins.sharing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

class KMeans1DTest {

    private static final DoubleUnaryOperator FLOAT = v -> (float) v;

    @Test
    void convergedClusteringIsALloydFixedPoint() {
        float[] values = gaussian(5000, 1);
        KMeans1D.Result result = KMeans1D.cluster(values, 16, 7, 1000, 0, FLOAT);

        assertEquals(16, result.codebook().length);
        double[] sums = new double[16];
        int[] counts = new int[16];
        double error = 0;
        for (int i = 0; i < values.length; i++) {
            int index = result.indices()[i] & 0xff;
            // every value sits with its nearest shared value
            for (float other : result.codebook()) {
                assertTrue(Math.abs(values[i] - result.codebook()[index]) <= Math.abs(values[i] - other) + 1e-7);
            }
            sums[index] += values[i];
            counts[index]++;
            double d = values[i] - result.codebook()[index];
            error += d * d;
        }
        for (int j = 0; j < 16; j++) {
            assertTrue(counts[j] > 0, "cluster " + j + " is empty");
            // and every shared value is the mean of its values (to float rounding)
            assertEquals(sums[j] / counts[j], result.codebook()[j], 1e-6, "cluster " + j);
        }
        assertEquals(error / values.length, result.mse(), 1e-12);
        assertEquals(16, result.used());
    }

    @Test
    void beatsAUniformGridOnBellShapedWeights() {
        float[] values = gaussian(20000, 2);
        KMeans1D.Result result = KMeans1D.cluster(values, 16, 0, 100, 1e-6, FLOAT);
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float v : values) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        double step = (max - min) / 15.0;
        double uniform = 0;
        for (float v : values) {
            double q = min + Math.round((v - min) / step) * step;
            uniform += (v - q) * (v - q);
        }
        uniform /= values.length;
        assertTrue(result.mse() < 0.5 * uniform, "k-means " + result.mse() + " vs uniform grid " + uniform);
    }

    @Test
    void moreClustersNeverFitWorse() {
        float[] values = gaussian(8000, 3);
        double previous = Double.POSITIVE_INFINITY;
        for (int k : new int[] {4, 16, 64, 256}) {
            double mse = KMeans1D.cluster(values, k, 1, 100, 1e-6, FLOAT).mse();
            assertTrue(mse < previous, k + " clusters: " + mse + " after " + previous);
            previous = mse;
        }
    }

    @Test
    void fewDistinctValuesAreKeptExactly() {
        float[] values = new float[3000];
        for (int i = 0; i < values.length; i++) {
            values[i] = (i % 5) * 0.25f - 0.5f;
        }
        KMeans1D.Result result = KMeans1D.cluster(values, 16, 1, 100, 1e-6, FLOAT);
        assertArrayEquals(new float[] {-0.5f, -0.25f, 0f, 0.25f, 0.5f}, result.codebook());
        assertEquals(0.0, result.mse());
        assertEquals(0, result.iterations());
    }

    @Test
    void sameSeedSameResultAndSeedsMatter() {
        float[] values = gaussian(4000, 4);
        KMeans1D.Result a = KMeans1D.cluster(values, 8, 11, 3, 0, FLOAT);
        KMeans1D.Result b = KMeans1D.cluster(values, 8, 11, 3, 0, FLOAT);
        assertArrayEquals(a.codebook(), b.codebook());
        assertArrayEquals(a.indices(), b.indices());
        boolean differs = false;
        for (long seed = 12; seed < 20 && !differs; seed++) {
            differs = !Arrays.equals(a.codebook(), KMeans1D.cluster(values, 8, seed, 3, 0, FLOAT).codebook());
        }
        assertTrue(differs, "after 3 iterations the seeding still shows");
    }

    @Test
    void codebookIsRoundedToTheStoragePrecision() {
        float[] values = gaussian(3000, 5);
        KMeans1D.Result result = KMeans1D.cluster(values, 16, 1, 100, 1e-6,
                WeightSharingPlugin.storage(io.modelpress.model.DataType.FLOAT16));
        for (float v : result.codebook()) {
            float roundTrip = io.modelpress.model.HalfFloats.halfToFloat(io.modelpress.model.HalfFloats.floatToHalf(v));
            assertEquals(roundTrip, v);
        }
        assertNotEquals(0.0, result.mse());
    }

    static float[] gaussian(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (0.05 * Math.sqrt(-2 * Math.log(1 - random.nextDouble()))
                    * Math.cos(2 * Math.PI * random.nextDouble()));
        }
        return values;
    }
}

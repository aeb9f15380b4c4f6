package io.modelpress.plugins.sharing;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;

/**
 * Exact k-means of one-dimensional values. On sorted values every cluster is a contiguous run
 * between the midpoints of neighbouring centroids, and prefix sums of x and x² give each run's
 * mean and squared error in O(1). So after one O(n log n) sort, a Lloyd iteration costs
 * O(k log n) and k-means++ seeding O(k² log n), independent of n: the same result as the textbook
 * algorithm, without its O(n·k) passes.
 */
final class KMeans1D {

    /**
     * A clustering.
     *
     * @param codebook the shared values, ascending, as stored (already rounded to the storage type)
     * @param indices for each input value (in input order), its codebook entry
     * @param mse mean squared error of the values against their entries
     * @param meanSquare mean of the squared values, to put {@code mse} in scale
     * @param used codebook entries that at least one value maps to
     * @param iterations Lloyd iterations run
     */
    record Result(float[] codebook, byte[] indices, double mse, double meanSquare, int used, int iterations) {
    }

    private KMeans1D() {
    }

    /**
     * Clusters {@code values} into at most {@code k} (≤ 256) shared values.
     *
     * @param values finite values (not changed)
     * @param k clusters wanted; fewer result when there are fewer distinct values
     * @param seed seeds k-means++: the same seed gives the same result
     * @param maxIterations cap on Lloyd iterations
     * @param tolerance stop once no centroid moves more than this fraction of the value range
     * @param storage rounds a centroid to the precision it is stored in (float32, float16, bfloat16)
     */
    static Result cluster(float[] values, int k, long seed, int maxIterations, double tolerance,
            DoubleUnaryOperator storage) {
        if (k < 1 || k > 256) {
            throw new IllegalArgumentException("k must be 1..256, not " + k);
        }
        if (values.length == 0) {
            throw new IllegalArgumentException("no values to cluster");
        }
        float[] sorted = sortedCopy(values);
        Prefix prefix = new Prefix(sorted);
        double[] centers = distinctValues(sorted, k);
        int iterations = 0;
        if (centers == null) {
            centers = seed(sorted, prefix, k, new SplittableRandom(seed));
            double range = (double) sorted[sorted.length - 1] - sorted[0];
            int[] previous = null;
            while (iterations < maxIterations) {
                iterations++;
                int[] bounds = bounds(sorted, centers);
                double shift = 0;
                for (int j = 0; j < centers.length; j++) {
                    int count = bounds[j + 1] - bounds[j];
                    if (count > 0) { // an empty cluster keeps its centroid
                        double mean = prefix.sum(bounds[j], bounds[j + 1]) / count;
                        shift = Math.max(shift, Math.abs(mean - centers[j]));
                        centers[j] = mean;
                    }
                }
                Arrays.sort(centers); // only an empty cluster's kept centroid can fall out of order
                if (Arrays.equals(bounds, previous) || shift <= tolerance * range) {
                    break;
                }
                previous = bounds;
            }
        }
        return assign(values, sorted, centers, storage, iterations);
    }

    /** The distinct values when there are at most {@code k} of them (then they are the exact answer), else null. */
    private static double[] distinctValues(float[] sorted, int k) {
        double[] distinct = new double[k];
        int count = 0;
        for (int i = 0; i < sorted.length; i++) {
            if (i == 0 || sorted[i] != sorted[i - 1]) {
                if (count == k) {
                    return null;
                }
                distinct[count++] = sorted[i];
            }
        }
        return Arrays.copyOf(distinct, count);
    }

    /**
     * k-means++: each next centroid is a value drawn with probability proportional to its squared
     * distance from the nearest centroid so far. Costs per Voronoi run come from the prefix sums,
     * and the draw inside a run is a binary search on its cumulative cost.
     */
    private static double[] seed(float[] sorted, Prefix prefix, int k, SplittableRandom random) {
        double[] centers = new double[k];
        int count = 1;
        centers[0] = sorted[random.nextInt(sorted.length)];
        while (count < k) {
            double[] current = Arrays.copyOf(centers, count);
            int[] bounds = bounds(sorted, current);
            double[] costs = new double[count];
            double total = 0;
            for (int j = 0; j < count; j++) {
                costs[j] = prefix.cost(bounds[j], bounds[j + 1], current[j]);
                total += costs[j];
            }
            if (total <= 0) {
                break; // every value sits on a centroid already
            }
            double target = random.nextDouble() * total;
            int run = 0;
            while (run < count - 1 && target >= costs[run]) {
                target -= costs[run];
                run++;
            }
            double chosen = draw(sorted, prefix, bounds[run], bounds[run + 1], current[run], target);
            if (Arrays.binarySearch(current, chosen) >= 0) {
                // rounding put the draw on a centroid: take the run's farthest value instead
                double low = sorted[bounds[run]];
                double high = sorted[bounds[run + 1] - 1];
                chosen = Math.abs(low - current[run]) >= Math.abs(high - current[run]) ? low : high;
                if (Arrays.binarySearch(current, chosen) >= 0) {
                    break;
                }
            }
            centers[count++] = chosen;
            Arrays.sort(centers, 0, count);
        }
        return Arrays.copyOf(centers, count);
    }

    /** The first value of run [from, to) whose cumulative squared distance to {@code center} exceeds {@code target}. */
    private static double draw(float[] sorted, Prefix prefix, int from, int to, double center, double target) {
        int low = from;
        int high = to - 1;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (prefix.cost(from, mid + 1, center) > target) {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        return sorted[low];
    }

    /**
     * Run boundaries for ascending centers: value i belongs to cluster j when bounds[j] ≤ i &lt; bounds[j+1].
     * A value exactly on a midpoint goes to the upper cluster, here and in {@link #assign}.
     */
    private static int[] bounds(float[] sorted, double[] centers) {
        int[] bounds = new int[centers.length + 1];
        bounds[centers.length] = sorted.length;
        for (int j = 1; j < centers.length; j++) {
            bounds[j] = lowerBound(sorted, (centers[j - 1] + centers[j]) / 2, bounds[j - 1]);
        }
        return bounds;
    }

    /** First index ≥ from whose value is ≥ key. */
    private static int lowerBound(float[] sorted, double key, int from) {
        int low = from;
        int high = sorted.length;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (sorted[mid] < key) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low;
    }

    /** Rounds the centroids to storage precision and maps every value to its nearest stored entry. */
    private static Result assign(float[] values, float[] sorted, double[] centers, DoubleUnaryOperator storage,
            int iterations) {
        double[] stored = new double[centers.length];
        for (int j = 0; j < centers.length; j++) {
            stored[j] = storage.applyAsDouble(centers[j]);
        }
        Arrays.sort(stored);
        double[] mids = new double[stored.length - 1];
        for (int j = 0; j < mids.length; j++) {
            mids[j] = (stored[j] + stored[j + 1]) / 2;
        }
        Lookup lookup = new Lookup(mids, sorted[0], sorted[sorted.length - 1]);
        byte[] indices = new byte[values.length];
        int[] hits = new int[stored.length];
        double error = 0;
        double square = 0;
        for (int i = 0; i < values.length; i++) {
            double v = values[i];
            int index = lookup.index(v);
            indices[i] = (byte) index;
            hits[index]++;
            double d = v - stored[index];
            error += d * d;
            square += v * v;
        }
        float[] codebook = new float[stored.length];
        int used = 0;
        for (int j = 0; j < stored.length; j++) {
            codebook[j] = (float) stored[j];
            used += hits[j] > 0 ? 1 : 0;
        }
        return new Result(codebook, indices, error / values.length, square / values.length, used, iterations);
    }

    /**
     * The number of midpoints ≤ v (= the nearest entry's index) without a binary search per value:
     * a table over equal cells of [min, max] gives the answer at each cell's left edge, and a step
     * or two along the midpoints corrects it, so the result is exact whatever the rounding.
     */
    private static final class Lookup {
        private static final int CELLS = 8192;
        private final double[] mids;
        private final double min;
        private final double scale;
        private final int[] table;

        Lookup(double[] mids, double min, double max) {
            this.mids = mids;
            this.min = min;
            this.scale = max > min ? CELLS / (max - min) : 0;
            this.table = new int[CELLS + 1];
            int j = 0;
            for (int c = 0; c <= CELLS; c++) {
                double edge = scale == 0 ? min : min + c / scale;
                while (j < mids.length && mids[j] <= edge) {
                    j++;
                }
                table[c] = j;
            }
        }

        int index(double v) {
            int cell = (int) ((v - min) * scale);
            int j = table[Math.max(0, Math.min(CELLS, cell))];
            while (j < mids.length && mids[j] <= v) {
                j++;
            }
            while (j > 0 && mids[j - 1] > v) {
                j--;
            }
            return j;
        }
    }

    /**
     * The values in ascending order, by an LSD radix sort on their bits (three passes of 11 bits):
     * several times faster than a comparison sort on the millions of values of a large layer.
     * Negative values' bits are inverted and positive values' sign bit set, so that unsigned order
     * of the keys is numeric order of the floats.
     */
    static float[] sortedCopy(float[] values) {
        int n = values.length;
        int[] keys = new int[n];
        int[] spare = new int[n];
        for (int i = 0; i < n; i++) {
            int bits = Float.floatToRawIntBits(values[i]);
            keys[i] = bits ^ ((bits >> 31) | 0x80000000);
        }
        int[] counts = new int[2049];
        for (int shift = 0; shift < 32; shift += 11) {
            Arrays.fill(counts, 0);
            for (int i = 0; i < n; i++) {
                counts[((keys[i] >>> shift) & 0x7ff) + 1]++;
            }
            for (int d = 0; d < 2048; d++) {
                counts[d + 1] += counts[d];
            }
            for (int i = 0; i < n; i++) {
                spare[counts[(keys[i] >>> shift) & 0x7ff]++] = keys[i];
            }
            int[] swap = keys;
            keys = spare;
            spare = swap;
        }
        float[] sorted = new float[n];
        for (int i = 0; i < n; i++) {
            int key = keys[i];
            sorted[i] = Float.intBitsToFloat(key ^ ((~key >> 31) | 0x80000000));
        }
        return sorted;
    }

    /** Prefix sums of x and x² over sorted values, in double. */
    private static final class Prefix {
        private final double[] sum;
        private final double[] squares;

        Prefix(float[] sorted) {
            sum = new double[sorted.length + 1];
            squares = new double[sorted.length + 1];
            for (int i = 0; i < sorted.length; i++) {
                double v = sorted[i];
                sum[i + 1] = sum[i] + v;
                squares[i + 1] = squares[i] + v * v;
            }
        }

        double sum(int from, int to) {
            return sum[to] - sum[from];
        }

        /** Σ (x − c)² over [from, to), never negative. */
        double cost(int from, int to, double center) {
            int count = to - from;
            double s = sum[to] - sum[from];
            double q = squares[to] - squares[from];
            return Math.max(0, q - 2 * center * s + count * center * center);
        }
    }
}

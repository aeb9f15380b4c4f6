package io.modelpress.plugins.pruning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MagnitudeSelectTest {

    @Test
    void findsTheSameCutAsSorting() {
        SplittableRandom random = new SplittableRandom(7);
        List<float[]> arrays = new ArrayList<>();
        for (int size : new int[] {1, 300_000, 17, 4096, 0, 70_000}) {
            float[] values = new float[size];
            for (int i = 0; i < size; i++) {
                // ties, zeros of both signs and tiny values, as real weights have
                values[i] = switch (random.nextInt(10)) {
                    case 0 -> 0f;
                    case 1 -> -0f;
                    case 2 -> 0.25f * (random.nextBoolean() ? 1 : -1);
                    case 3 -> (float) random.nextDouble(-1e-30, 1e-30);
                    default -> (float) random.nextGaussian();
                };
            }
            arrays.add(values);
        }
        float[] sorted = sortedMagnitudes(arrays);
        for (long k : new long[] {1, 2, sorted.length / 10, sorted.length / 2, sorted.length * 9L / 10, sorted.length}) {
            MagnitudeSelect.Cut cut = MagnitudeSelect.kthSmallest(arrays, k);
            assertEquals(sorted[(int) k - 1], cut.magnitude(), "k = " + k);
            long below = 0;
            long equal = 0;
            for (float v : sorted) {
                below += v < cut.magnitude() ? 1 : 0;
                equal += v == cut.magnitude() ? 1 : 0;
            }
            assertEquals(below, cut.below(), "k = " + k);
            assertEquals(equal, cut.equal(), "k = " + k);
        }
    }

    @Test
    void zeroesExactlyKSmallestEvenWithTies() {
        float[] a = {0.5f, -0.25f, 0.25f, 1f, 0f};
        float[] b = {-0.25f, 2f, 0.25f};
        List<float[]> arrays = List.of(a, b);
        long k = 4; // 0, then three of the four 0.25s: ties go in array order
        MagnitudeSelect.zeroSmallest(arrays, k, MagnitudeSelect.kthSmallest(arrays, k));
        assertEquals(List.of(0.5f, 0f, 0f, 1f, 0f), boxed(a));
        assertEquals(List.of(0f, 2f, 0.25f), boxed(b));
        assertEquals(4, MagnitudeSelect.zeros(arrays));
    }

    @Test
    void layerAdaptiveScoresDivideEachSquareByTheSquaresAtLeastAsLarge() {
        float[] values = {0.5f, -2f, 0f, 1f, -0.5f};
        float[] scores = MagnitudeSelect.layerAdaptiveScores(values);
        // by magnitude: 0, 0.5 (index 0), 0.5 (index 4), 1, 2; squares 0, 0.25, 0.25, 1, 4
        assertEquals(0f, scores[2]);
        assertEquals(0.25 / 5.5, scores[0], 1e-7, "ties count in array order: the first 0.5 sees the second");
        assertEquals(0.25 / 5.25, scores[4], 1e-7);
        assertEquals(1 / 5.0, scores[3], 1e-7);
        assertEquals(1f, scores[1], "the largest weight scores 1");

        SplittableRandom random = new SplittableRandom(5);
        float[] layer = new float[1000];
        for (int i = 0; i < layer.length; i++) {
            layer[i] = (float) random.nextGaussian();
        }
        float[] layerScores = MagnitudeSelect.layerAdaptiveScores(layer);
        for (int i = 0; i < layer.length; i++) {
            for (int j = 0; j < layer.length; j++) {
                if (Math.abs(layer[i]) < Math.abs(layer[j])) {
                    assertTrue(layerScores[i] < layerScores[j], "scores order like magnitudes");
                }
            }
        }
    }

    @Test
    void refusesAnImpossibleK() {
        assertThrows(IllegalArgumentException.class, () -> MagnitudeSelect.kthSmallest(List.of(new float[3]), 4));
        assertThrows(IllegalArgumentException.class, () -> MagnitudeSelect.kthSmallest(List.of(new float[3]), 0));
    }

    private static float[] sortedMagnitudes(List<float[]> arrays) {
        int total = arrays.stream().mapToInt(a -> a.length).sum();
        float[] all = new float[total];
        int at = 0;
        for (float[] values : arrays) {
            for (float v : values) {
                all[at++] = Math.abs(v);
            }
        }
        Arrays.sort(all);
        return all;
    }

    private static List<Float> boxed(float[] values) {
        List<Float> list = new ArrayList<>();
        for (float v : values) {
            list.add(v == 0f ? 0f : v);
        }
        return list;
    }
}

package io.modelpress.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.model.SaveOptions;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.RealInputs;
import io.modelpress.testkit.RealModels;
import io.modelpress.testkit.TestModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Top-1 agreement is measured for outputs that are class scores, and only for those. */
class FidelityTest {

    @TempDir
    Path temp;

    @Test
    void scoresPerPositionCountButProbabilityMapsDoNot() {
        OutputFidelity recognizer = selfFidelity(RealModels.OCR_RECOGNIZER);
        assertEquals(1.0, recognizer.top1Agreement().orElseThrow(), "a softmax over characters at each step is scores");

        OutputFidelity detector = selfFidelity(RealModels.OCR_DETECTOR);
        assertTrue(detector.top1Agreement().isEmpty(), "a per-pixel probability map [1, 1, H, W] is not scores");
        assertEquals(1.0, detector.meanCosine(), 1e-9);
    }

    @Test
    void aClassifiersBatchOfScoresCounts() {
        assertTrue(selfFidelity(RealModels.OCR_CLASSIFIER).top1Agreement().isPresent());
    }

    @Test
    void anOutputOfOneValuePerSampleIsComparedAcrossTheSamples() {
        Path original = temp.resolve("original.onnx");
        Path other = temp.resolve("other.onnx");
        TestModels.mlp(8, 16, 1, 1).save(original, SaveOptions.inline());
        TestModels.mlp(8, 16, 1, 2).save(other, SaveOptions.inline());
        SplittableRandom random = new SplittableRandom(7);
        List<Map<String, TensorData>> samples = IntStream.range(0, 6).mapToObj(i -> Map.of("x",
                TensorData.ofFloats(new long[] {1, 8}, floats(random, 8)))).toList();
        try (OrtRunner expected = OrtRunner.open(original, RunnerOptions.DEFAULT);
                OrtRunner actual = OrtRunner.open(other, RunnerOptions.DEFAULT)) {
            double dot = 0;
            double ee = 0;
            double aa = 0;
            for (Map<String, TensorData> sample : samples) {
                float e = expected.run(sample).values().iterator().next().toFloats()[0];
                float a = actual.run(sample).values().iterator().next().toFloats()[0];
                dot += e * a;
                ee += e * e;
                aa += a * a;
            }
            OutputFidelity fidelity = Fidelity.compare(expected, actual, samples).get(0);
            assertEquals(dot / Math.sqrt(ee * aa), fidelity.meanCosine(), 1e-6, "the six values compared as one vector");
            assertEquals(fidelity.meanCosine(), fidelity.minCosine());
        }
    }

    @Test
    void scoresPerPositionAreAlsoDecodedAsCtcAndComparedLineByLine() {
        // Four lines of 10 positions over 5 classes (0 the blank); the compressed model reads one
        // character of each of two lines differently: 95% of positions agree, half of the lines.
        int[][] original = {{1, 1, 0, 2, 3, 0, 0, 4, 4, 0}, {2, 0, 2, 0, 3, 3, 0, 1, 0, 0},
                {4, 0, 0, 3, 3, 0, 2, 0, 1, 0}, {1, 0, 1, 0, 1, 0, 2, 2, 0, 0}};
        int[][] compressed = {{1, 1, 0, 2, 3, 0, 0, 4, 4, 0}, {2, 0, 2, 0, 4, 3, 0, 1, 0, 0},
                {4, 0, 0, 3, 3, 0, 2, 0, 1, 0}, {1, 0, 1, 0, 0, 0, 2, 2, 0, 0}};
        Map<String, TensorData> sample = Map.of("x", TensorData.ofFloats(new long[] {1}, new float[1]));
        OutputFidelity fidelity = Fidelity.compare(runner(original), runner(compressed), List.of(sample)).get(0);
        assertEquals(38 / 40.0, fidelity.top1Agreement().orElseThrow(), 1e-9);
        assertEquals(0.5, fidelity.sequenceAgreement().orElseThrow(), 1e-9, "two of four lines read alike");
        // line 2 reads 2 2 3 1 -> 2 2 4 3 1 (one insertion), line 4 reads 1 1 1 2 -> 1 1 2 (one deletion): 2 edits over 16
        assertEquals(2 / 16.0, fidelity.characterErrorRate().orElseThrow(), 1e-9);
    }

    /** A runner whose output is one-hot softmax scores [lines, positions, 5] with the given best class per position. */
    private static io.modelpress.spi.ModelRunner runner(int[][] best) {
        int classes = 5;
        int positions = best[0].length;
        float[] scores = new float[best.length * positions * classes];
        for (int line = 0; line < best.length; line++) {
            for (int t = 0; t < positions; t++) {
                for (int c = 0; c < classes; c++) {
                    scores[(line * positions + t) * classes + c] = c == best[line][t] ? 0.96f : 0.01f;
                }
            }
        }
        TensorData output = TensorData.ofFloats(new long[] {best.length, positions, classes}, scores);
        return new io.modelpress.spi.ModelRunner() {
            @Override
            public List<String> inputNames() {
                return List.of("x");
            }

            @Override
            public List<String> outputNames() {
                return List.of("scores");
            }

            @Override
            public Map<String, TensorData> run(Map<String, TensorData> inputs) {
                return Map.of("scores", output);
            }

            @Override
            public void close() {
            }
        };
    }

    private static float[] floats(SplittableRandom random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    private OutputFidelity selfFidelity(RealModels model) {
        Path file = model.copyTo(temp);
        try (OrtRunner original = OrtRunner.open(file, RunnerOptions.DEFAULT);
                OrtRunner same = OrtRunner.open(file, RunnerOptions.DEFAULT)) {
            List<OutputFidelity> outputs = Fidelity.compare(original, same, List.of(RealInputs.of(model, 1)));
            return outputs.get(0);
        }
    }
}

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

package io.modelpress.plugins.pruning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.inference.InputGenerator;
import io.modelpress.inference.OrtRunner;
import io.modelpress.model.ModelSummary;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.PluginTestContext;
import java.util.List;
import java.util.Map;

/** Shared assertions: outputs run in ONNX Runtime with the original's inputs and outputs. */
final class Checks {

    private Checks() {
    }

    /** Both models run on the same generated inputs; returns the largest absolute output difference. */
    static double assertRunsLikeOriginal(OnnxModel original, OnnxModel pruned, int batch, int symbolicDim) {
        ModelSummary before = original.summary();
        ModelSummary after = pruned.summary();
        assertEquals(before.inputs(), after.inputs(), "inputs keep their names, types and shapes");
        assertEquals(before.outputs(), after.outputs(), "outputs keep their names, types and shapes");
        double worst = 0;
        try (OrtRunner expected = OrtRunner.open(original); OrtRunner actual = OrtRunner.open(pruned)) {
            List<Map<String, TensorData>> samples = new InputGenerator(batch, symbolicDim)
                    .generate(expected.inputSpecs(), 2, 5);
            for (Map<String, TensorData> sample : samples) {
                Map<String, TensorData> a = expected.run(sample);
                Map<String, TensorData> b = actual.run(sample);
                assertEquals(a.keySet(), b.keySet());
                for (String name : a.keySet()) {
                    assertArrayEquals(a.get(name).shape(), b.get(name).shape(), name);
                    float[] x = a.get(name).toFloats();
                    float[] y = b.get(name).toFloats();
                    for (int i = 0; i < x.length; i++) {
                        worst = Math.max(worst, Math.abs(x[i] - y[i]));
                    }
                }
            }
        }
        assertTrue(Double.isFinite(worst), "outputs are finite");
        return worst;
    }

    /** The plugin reported progress from 0 to 1 and never went back. */
    static void assertProgressFromStartToDone(PluginTestContext context) {
        List<Double> fractions = context.progressReports().stream().map(PluginTestContext.Progress::fraction).toList();
        assertEquals(0.0, fractions.get(0), fractions.toString());
        assertEquals(1.0, fractions.get(fractions.size() - 1), fractions.toString());
        for (int i = 1; i < fractions.size(); i++) {
            assertTrue(fractions.get(i) >= fractions.get(i - 1), "progress never goes back: " + fractions);
        }
    }

    static float[] values(OnnxModel model, String weight) {
        Weight w = model.weights().all().stream().filter(x -> x.name().equals(weight)).findFirst().orElseThrow();
        return Tensors.toFloats(model.weights().tensor(w.ref()));
    }

    static long[] dims(OnnxModel model, String weight) {
        return model.weights().all().stream().filter(x -> x.name().equals(weight)).findFirst().orElseThrow().dims();
    }

    static long zeros(float[] values) {
        long count = 0;
        for (float v : values) {
            if (v == 0f) {
                count++;
            }
        }
        return count;
    }
}

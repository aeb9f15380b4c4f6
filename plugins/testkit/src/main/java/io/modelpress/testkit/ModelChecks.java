package io.modelpress.testkit;

import io.modelpress.inference.Fidelity;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.TensorData;
import java.util.List;
import java.util.Map;

/** Checks of a compressed model against its original, both run in ONNX Runtime. */
public final class ModelChecks {

    private ModelChecks() {
    }

    /** The fidelity of a single-output model's output on the samples. */
    public static OutputFidelity fidelity(OnnxModel original, OnnxModel compressed, List<Map<String, TensorData>> samples) {
        try (OrtRunner before = OrtRunner.open(original); OrtRunner after = OrtRunner.open(compressed)) {
            List<OutputFidelity> outputs = Fidelity.compare(before, after, samples);
            if (outputs.size() != 1) {
                throw new AssertionError("expected a model with one output, not " + outputs.size());
            }
            return outputs.get(0);
        }
    }
}

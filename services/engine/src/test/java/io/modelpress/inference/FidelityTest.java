package io.modelpress.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.testkit.RealInputs;
import io.modelpress.testkit.RealModels;
import java.nio.file.Path;
import java.util.List;
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

    private OutputFidelity selfFidelity(RealModels model) {
        Path file = model.copyTo(temp);
        try (OrtRunner original = OrtRunner.open(file, RunnerOptions.DEFAULT);
                OrtRunner same = OrtRunner.open(file, RunnerOptions.DEFAULT)) {
            List<OutputFidelity> outputs = Fidelity.compare(original, same, List.of(RealInputs.of(model, 1)));
            return outputs.get(0);
        }
    }
}

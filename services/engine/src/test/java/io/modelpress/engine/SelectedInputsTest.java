package io.modelpress.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.RunnerOptions;
import io.modelpress.model.LoadLimits;
import io.modelpress.spi.SelectedFeatures;
import io.modelpress.testkit.MnistModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model with fewer input features is still measured against its original, on the original's data. */
class SelectedInputsTest {

    @TempDir
    Path temp;

    @Test
    void aFeatureSelectedClassifierIsComparedWithItsOriginalOnTheSameDigits() {
        CompressionEngine engine = new CompressionEngine(PluginRegistry.discover(getClass().getClassLoader()),
                LoadLimits.DEFAULT);
        CompressionReport report = engine.compress(new CompressionRequest(MnistModels.copy(temp.resolve("in")),
                TestProfiles.cpu(), List.of(ChainStep.parse("feature-selection")), temp.resolve("out"),
                Optional.of(MnistModels.calibration("pixels", 0, 2000, 500)),
                Optional.of(MnistModels.calibration("pixels", 8000, 10000, 500)), Optional.empty()), ProgressListener.NONE);

        try (OrtRunner compressed = OrtRunner.open(temp.resolve("out/model.onnx"), RunnerOptions.DEFAULT)) {
            int kept = SelectedFeatures.fromMetadata(compressed.metadata()).get(0).originalIndices().length;
            assertTrue(kept < 784, "blank border pixels are removed; kept " + kept);
        }
        assertTrue(report.fidelity().runsInOnnxRuntime(), report.fidelity().toString());
        assertEquals(1, report.fidelity().outputs().size(), report.fidelity().toString());
        assertTrue(report.fidelity().outputs().get(0).top1Agreement().orElseThrow() > 0.98, report.fidelity().toString());
        CompressionReport.AccuracyReport accuracy = report.accuracy().orElseThrow();
        assertEquals(2000, accuracy.examples());
        assertTrue(accuracy.top1Drop() <= 1, "at most one point: " + accuracy);
    }
}

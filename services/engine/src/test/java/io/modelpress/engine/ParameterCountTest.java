package io.modelpress.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.model.LoadLimits;
import io.modelpress.model.SaveOptions;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.Precision;
import io.modelpress.spi.QuantizedFormat;
import io.modelpress.testkit.TestModels;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Quantizing keeps every parameter: a report never reads as if 4-bit packing removed half of them. */
class ParameterCountTest {

    @TempDir
    Path temp;

    @Test
    void fourBitWeightsKeepTheirParameterCountAndAddTheirScales() {
        Path model = temp.resolve("mlp.onnx");
        TestModels.mlp(256, 128, 16, 5).save(model, SaveOptions.inline());
        HardwareProfile int4 = new HardwareProfile("test-int4", "a CPU that runs 4-bit weights",
                EnumSet.of(Precision.FP32, Precision.INT8, Precision.INT4), QuantizedFormat.OPERATOR, "cpu",
                OptionalLong.empty(), OptionalLong.empty(), OptionalDouble.empty(), 0.01, 1, 1);
        CompressionEngine engine = new CompressionEngine(PluginRegistry.discover(getClass().getClassLoader()), LoadLimits.DEFAULT);

        CompressionReport report = engine.compress(new CompressionRequest(model, int4, List.of(ChainStep.parse("int4-block")),
                temp.resolve("out"), Optional.empty(), Optional.empty(), Optional.empty()), ProgressListener.NONE);

        // judged on generated inputs alone (no data given): done, but unverified
        assertEquals(CompressionReport.UNVERIFIED, report.status(), report.steps().toString());
        assertTrue(report.gains().sizeRatio() > 3, "4-bit weights are smaller: " + report.gains());
        long before = report.original().parameters();
        long after = report.compressed().parameters();
        assertTrue(after >= before && after < before * 1.1, "the same weights plus a scale per block: " + before + " -> " + after);
        assertTrue(report.gains().parameterRatio() <= 1.0, report.gains().toString());
    }
}

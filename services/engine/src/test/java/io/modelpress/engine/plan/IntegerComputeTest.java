package io.modelpress.engine.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.ChainStep;
import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.CompressionRequest;
import io.modelpress.engine.ProgressListener;
import io.modelpress.engine.TestProfiles;
import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.engine.profile.HardwareProfiles;
import io.modelpress.model.LoadLimits;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.testkit.MnistModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An integer-only profile gets only models whose layers compute in integers. */
class IntegerComputeTest {

    @TempDir
    Path temp;

    private final CompressionEngine engine = new CompressionEngine(PluginRegistry.discover(getClass().getClassLoader()),
            LoadLimits.DEFAULT);
    private final HardwareProfile mcu = HardwareProfiles.builtIn().require("mcu");

    @Test
    void weightSharingComputesInFloatingPointAndIsRefusedWhereInt8DynamicIsNot() {
        Path model = MnistModels.copy(temp.resolve("in"));
        assertTrue(IntegerCompute.violation(OnnxModel.load(model), mcu).orElseThrow().contains("runs only int8"),
                "the fp32 original is not what an int8-only target runs");

        OnnxModel shared = compressed(model, "weight-sharing:bits=4", "shared");
        String violation = IntegerCompute.violation(shared, mcu).orElseThrow();
        assertTrue(violation.contains("compute in floating point") && violation.contains("profile 'mcu'"), violation);

        OnnxModel int8 = compressed(model, "int8-dynamic", "int8");
        assertEquals(Optional.empty(), IntegerCompute.violation(int8, mcu));
        assertEquals(Optional.empty(), IntegerCompute.violation(shared, TestProfiles.cpu()),
                "a profile that runs fp32 takes floating-point layers");
    }

    private OnnxModel compressed(Path model, String step, String folder) {
        engine.compress(new CompressionRequest(model, TestProfiles.cpu(), List.of(ChainStep.parse(step)),
                temp.resolve(folder)), ProgressListener.NONE);
        return OnnxModel.load(temp.resolve(folder).resolve("model.onnx"));
    }
}

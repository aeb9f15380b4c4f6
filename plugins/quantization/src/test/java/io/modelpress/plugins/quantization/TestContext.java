package io.modelpress.plugins.quantization;

import io.modelpress.inference.OrtRunner;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.ModelRunner;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.Precision;
import io.modelpress.spi.QuantizedFormat;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;

/** A plugin context for tests and benchmarks: runs models in ONNX Runtime, no cancellation. */
record TestContext(HardwareProfile profile, Optional<CalibrationData> calibrationData) implements PluginContext {

    static HardwareProfile profile(QuantizedFormat format) {
        return new HardwareProfile("test-" + format.label(), "test profile", Set.of(Precision.FP32, Precision.INT8,
                Precision.INT4), format, "cpu", OptionalLong.empty(), OptionalLong.empty(), OptionalDouble.empty(), 0.01, 1, 0);
    }

    static TestContext of(QuantizedFormat format) {
        return new TestContext(profile(format), Optional.empty());
    }

    static TestContext of(QuantizedFormat format, CalibrationData data) {
        return new TestContext(profile(format), Optional.of(data));
    }

    @Override
    public void progress(double fraction, String message) {
        if (fraction < 0 || fraction > 1) {
            throw new AssertionError("progress " + fraction + " is outside [0, 1]");
        }
    }

    @Override
    public boolean isCancelled() {
        return false;
    }

    @Override
    public Path tempDir() {
        return Path.of(System.getProperty("java.io.tmpdir"));
    }

    @Override
    public ModelRunner runner(OnnxModel model) {
        return OrtRunner.open(model);
    }
}

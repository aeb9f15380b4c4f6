package io.modelpress.plugins.optimize;

import io.modelpress.inference.OrtRunner;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.ModelRunner;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.Precision;
import io.modelpress.spi.QuantizedFormat;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/** A plugin context for tests: a temp folder, a CPU profile, progress recorded, cancellable. */
final class TestContext implements PluginContext {

    private final Path tempDir;
    private final List<Double> progress = new ArrayList<>();
    private volatile boolean cancelled;

    TestContext(Path tempDir) {
        this.tempDir = tempDir;
    }

    void cancel() {
        cancelled = true;
    }

    List<Double> progress() {
        return progress;
    }

    @Override
    public void progress(double fraction, String message) {
        progress.add(fraction);
    }

    @Override
    public boolean isCancelled() {
        return cancelled;
    }

    @Override
    public Path tempDir() {
        return tempDir;
    }

    @Override
    public Optional<CalibrationData> calibrationData() {
        return Optional.empty();
    }

    @Override
    public HardwareProfile profile() {
        return new HardwareProfile("test-cpu", "a CPU for tests", EnumSet.of(Precision.FP32), QuantizedFormat.QDQ,
                "cpu", OptionalLong.empty(), OptionalLong.empty(), OptionalDouble.empty(), 0.01, 1, 1);
    }

    @Override
    public ModelRunner runner(OnnxModel model) {
        return OrtRunner.open(model);
    }
}

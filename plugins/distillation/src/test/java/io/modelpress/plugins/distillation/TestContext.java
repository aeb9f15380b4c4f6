package io.modelpress.plugins.distillation;

import io.modelpress.inference.OrtRunner;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.ModelRunner;
import io.modelpress.spi.PluginContext;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

/** A plugin context for tests: ONNX Runtime runners, the given transfer set, progress recorded. */
class TestContext implements PluginContext {

    record Progress(double fraction, String message) {
    }

    private final CalibrationData data;
    private final Path tempDir;
    private final BooleanSupplier cancelled;
    private final List<Progress> progress = new CopyOnWriteArrayList<>();

    TestContext(CalibrationData data, Path tempDir) {
        this(data, tempDir, () -> false);
    }

    TestContext(CalibrationData data, Path tempDir, BooleanSupplier cancelled) {
        this.data = data;
        this.tempDir = tempDir;
        this.cancelled = cancelled;
    }

    List<Progress> progress() {
        return List.copyOf(progress);
    }

    @Override
    public void progress(double fraction, String message) {
        progress.add(new Progress(fraction, message));
    }

    @Override
    public boolean isCancelled() {
        return cancelled.getAsBoolean();
    }

    @Override
    public Path tempDir() {
        return tempDir;
    }

    @Override
    public Optional<CalibrationData> calibrationData() {
        return Optional.ofNullable(data);
    }

    @Override
    public HardwareProfile profile() {
        throw new UnsupportedOperationException("distillation does not read the profile");
    }

    @Override
    public ModelRunner runner(OnnxModel model) {
        return OrtRunner.open(model);
    }
}

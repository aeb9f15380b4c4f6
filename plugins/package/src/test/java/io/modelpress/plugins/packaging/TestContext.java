package io.modelpress.plugins.packaging;

import io.modelpress.inference.OrtRunner;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.ModelRunner;
import io.modelpress.spi.PluginContext;
import java.nio.file.Path;
import java.util.Optional;

/** A plugin context for tests: a temp folder, ONNX Runtime sessions, optional cancellation. */
final class TestContext implements PluginContext {

    private final Path tempDir;
    private final boolean cancelled;

    TestContext(Path tempDir, boolean cancelled) {
        this.tempDir = tempDir;
        this.cancelled = cancelled;
    }

    TestContext(Path tempDir) {
        this(tempDir, false);
    }

    @Override
    public void progress(double fraction, String message) {
        if (fraction < 0 || fraction > 1) {
            throw new AssertionError("progress " + fraction + " out of [0, 1]: " + message);
        }
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
        throw new UnsupportedOperationException("package does not read the profile");
    }

    @Override
    public ModelRunner runner(OnnxModel model) {
        return OrtRunner.open(model);
    }
}

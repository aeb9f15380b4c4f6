package io.modelpress.plugins.sharing;

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

/** A plugin context for tests: records progress, can be cancelled, runs models in ONNX Runtime. */
final class TestContext implements PluginContext {

    final List<Double> progress = new CopyOnWriteArrayList<>();
    private final Path tempDir;
    private final boolean cancelled;

    TestContext(Path tempDir, boolean cancelled) {
        this.tempDir = tempDir;
        this.cancelled = cancelled;
    }

    static TestContext of(Path tempDir) {
        return new TestContext(tempDir, false);
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
        throw new UnsupportedOperationException("weight-sharing does not read the profile");
    }

    @Override
    public ModelRunner runner(OnnxModel model) {
        return OrtRunner.open(model);
    }
}

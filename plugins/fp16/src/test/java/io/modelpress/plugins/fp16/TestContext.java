package io.modelpress.plugins.fp16;

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

/** A plugin context for tests: a temp folder, a profile (fp32 and fp16 by default), progress recorded, cancellable. */
final class TestContext implements PluginContext {

    private final Path tempDir;
    private final HardwareProfile profile;
    private final List<Double> progress = new ArrayList<>();
    private volatile boolean cancelled;

    TestContext(Path tempDir) {
        this(tempDir, profile(Precision.FP32, Precision.FP16));
    }

    TestContext(Path tempDir, HardwareProfile profile) {
        this.tempDir = tempDir;
        this.profile = profile;
    }

    static HardwareProfile profile(Precision... precisions) {
        return new HardwareProfile("test-gpu", "a GPU for tests", EnumSet.copyOf(List.of(precisions)),
                QuantizedFormat.QDQ, "cuda", OptionalLong.empty(), OptionalLong.empty(), OptionalDouble.empty(),
                0.01, 1, 0);
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
        return profile;
    }

    @Override
    public ModelRunner runner(OnnxModel model) {
        return OrtRunner.open(model);
    }
}

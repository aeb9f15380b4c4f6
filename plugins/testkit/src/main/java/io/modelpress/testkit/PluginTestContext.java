package io.modelpress.testkit;

import io.modelpress.inference.OrtRunner;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.ModelRunner;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.Precision;
import io.modelpress.spi.QuantizedFormat;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The plugin context tests hand to {@code apply}: a temp folder, a profile, optional calibration data, models run in
 * ONNX Runtime, progress recorded (and checked to stay within [0, 1]) and cancellation on demand.
 */
public final class PluginTestContext implements PluginContext {

    /** One progress report, as the plugin made it. */
    public record Progress(double fraction, String message) {
    }

    private final Path tempDir;
    private final HardwareProfile profile;
    private final Optional<CalibrationData> calibration;
    private final Optional<OnnxModel> original;
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final List<Progress> progress = new CopyOnWriteArrayList<>();

    private PluginTestContext(Path tempDir, HardwareProfile profile, Optional<CalibrationData> calibration,
            Optional<OnnxModel> original) {
        this.tempDir = tempDir;
        this.profile = profile;
        this.calibration = calibration;
        this.original = original;
    }

    /** A context on a CPU profile that runs every precision and prefers QDQ, without calibration data. */
    public static PluginTestContext in(Path tempDir) {
        return new PluginTestContext(tempDir, profile(QuantizedFormat.QDQ, Precision.values()), Optional.empty(),
                Optional.empty());
    }

    /** A profile for tests: no budgets, batch 1, the runtime's own thread count. */
    public static HardwareProfile profile(QuantizedFormat format, Precision... precisions) {
        return new HardwareProfile("test-" + format.label(), "a profile for tests", EnumSet.copyOf(List.of(precisions)),
                format, "cpu", OptionalLong.empty(), OptionalLong.empty(), OptionalDouble.empty(), 0.01, 1, 0);
    }

    public PluginTestContext withProfile(HardwareProfile newProfile) {
        return new PluginTestContext(tempDir, newProfile, calibration, original);
    }

    public PluginTestContext withCalibration(CalibrationData data) {
        return new PluginTestContext(tempDir, profile, Optional.of(data), original);
    }

    /** As a later step of a chain that started from {@code model} sees it; without, the context has no original. */
    public PluginTestContext withOriginal(OnnxModel model) {
        return new PluginTestContext(tempDir, profile, calibration, Optional.of(model));
    }

    /** From now on the plugin sees a cancelled job. */
    public void cancel() {
        cancelled.set(true);
    }

    public List<Progress> progressReports() {
        return List.copyOf(progress);
    }

    @Override
    public void progress(double fraction, String message) {
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new AssertionError("progress " + fraction + " out of [0, 1]: " + message);
        }
        progress.add(new Progress(fraction, message));
    }

    @Override
    public boolean isCancelled() {
        return cancelled.get();
    }

    @Override
    public Path tempDir() {
        return tempDir;
    }

    @Override
    public Optional<CalibrationData> calibrationData() {
        return calibration;
    }

    @Override
    public HardwareProfile profile() {
        return profile;
    }

    @Override
    public ModelRunner runner(OnnxModel model) {
        return OrtRunner.open(model);
    }

    @Override
    public Optional<OnnxModel> original() {
        return original;
    }
}

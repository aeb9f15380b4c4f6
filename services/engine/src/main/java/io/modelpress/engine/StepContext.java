package io.modelpress.engine;

import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.RunnerOptions;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.ModelRunner;
import io.modelpress.spi.PluginContext;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * The context of one chain step: progress within the step's share of the job, its own temp folder,
 * and the model the chain started from (the same for every step of a chain, also when the planner
 * starts a chain after a prefix another candidate ran).
 */
final class StepContext implements PluginContext {

    private final Path tempDir;
    private final OnnxModel original;
    private final HardwareProfile profile;
    private final Optional<CalibrationData> calibration;
    private final BooleanSupplier cancelled;
    private final ProgressReporter progress;

    /** Maps a step's own 0..1 progress onto the job's progress. */
    interface ProgressReporter {
        void report(double fraction, String message);
    }

    StepContext(Path tempDir, OnnxModel original, HardwareProfile profile, Optional<CalibrationData> calibration,
            BooleanSupplier cancelled, ProgressReporter progress) {
        this.tempDir = Objects.requireNonNull(tempDir, "tempDir is null");
        this.original = Objects.requireNonNull(original, "original is null");
        this.profile = profile;
        this.calibration = calibration;
        this.cancelled = cancelled;
        this.progress = progress;
    }

    @Override
    public void progress(double fraction, String message) {
        progress.report(Math.max(0, Math.min(1, fraction)), message == null ? "" : message);
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
        return calibration;
    }

    @Override
    public HardwareProfile profile() {
        return profile;
    }

    @Override
    public ModelRunner runner(OnnxModel model) {
        // A model too large for one buffer is staged in the step's own folder, not java.io.tmpdir.
        return OrtRunner.open(model, RunnerOptions.DEFAULT, Optional.of(tempDir));
    }

    @Override
    public Optional<OnnxModel> original() {
        return Optional.of(original);
    }

}

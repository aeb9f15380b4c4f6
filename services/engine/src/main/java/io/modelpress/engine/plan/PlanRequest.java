package io.modelpress.engine.plan;

import io.modelpress.inference.BenchmarkSettings;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.HardwareProfile;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Compress a model for a profile, choosing the chain automatically.
 *
 * @param model the model file (external data beside it)
 * @param profile the hardware target
 * @param budget what the result must meet ({@link Budget#of(HardwareProfile)} unless the request overrides it)
 * @param outputFolder where the chosen model.onnx and report.json are written
 * @param calibration representative inputs, if any
 * @param evaluation labelled data, if any; with it, "drop" means lost top-1 accuracy
 * @param timing how to time the chosen model against the original before the report is written, as a
 *     named chain is timed; empty to keep only what the search measured (candidates are timed only
 *     when a latency or memory budget asks, and more briefly)
 */
public record PlanRequest(Path model, HardwareProfile profile, Budget budget, Path outputFolder,
        Optional<CalibrationData> calibration, Optional<CalibrationData> evaluation, Optional<BenchmarkSettings> timing) {

    /** A request whose report keeps only the search's own timings. */
    public PlanRequest(Path model, HardwareProfile profile, Budget budget, Path outputFolder,
            Optional<CalibrationData> calibration, Optional<CalibrationData> evaluation) {
        this(model, profile, budget, outputFolder, calibration, evaluation, Optional.empty());
    }

    public PlanRequest {
        Objects.requireNonNull(model, "model is null");
        Objects.requireNonNull(profile, "profile is null");
        Objects.requireNonNull(budget, "budget is null");
        Objects.requireNonNull(outputFolder, "outputFolder is null");
        Objects.requireNonNull(calibration, "calibration is null");
        Objects.requireNonNull(evaluation, "evaluation is null");
        Objects.requireNonNull(timing, "timing is null");
    }
}

package io.modelpress.engine;

import io.modelpress.inference.BenchmarkSettings;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.HardwareProfile;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One model compressed for one profile with a given chain.
 *
 * @param model the model file (external data beside it)
 * @param profile the hardware target
 * @param chain the plugins to run, in order
 * @param outputFolder where model.onnx and report.json are written
 * @param calibration representative inputs, if any; plugins calibrate and fidelity is measured on them
 * @param evaluation labelled data, if any; accuracy before and after is measured on it
 * @param benchmark how to time original and compressed side by side; empty to skip
 */
public record CompressionRequest(Path model, HardwareProfile profile, List<ChainStep> chain, Path outputFolder,
        Optional<CalibrationData> calibration, Optional<CalibrationData> evaluation,
        Optional<BenchmarkSettings> benchmark) {

    /** A request with no data and no timing: fidelity on generated inputs only. */
    public CompressionRequest(Path model, HardwareProfile profile, List<ChainStep> chain, Path outputFolder) {
        this(model, profile, chain, outputFolder, Optional.empty(), Optional.empty(), Optional.empty());
    }

    public CompressionRequest {
        Objects.requireNonNull(model, "model is null");
        Objects.requireNonNull(profile, "profile is null");
        chain = List.copyOf(chain);
        Objects.requireNonNull(outputFolder, "outputFolder is null");
        Objects.requireNonNull(calibration, "calibration is null");
        Objects.requireNonNull(evaluation, "evaluation is null");
        Objects.requireNonNull(benchmark, "benchmark is null");
    }

    /** What the evaluator measures on, batched as the profile runs. */
    public Evaluator.Data evaluationData() {
        return new Evaluator.Data(calibration, evaluation, benchmark, profile.batchSize());
    }
}

package io.modelpress.engine;

import io.modelpress.inference.OutputFidelity;
import io.modelpress.inference.RuntimeInfo;
import io.modelpress.spi.PluginResult;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a compression did, gained and lost, measured rather than assumed. Written as report.json
 * beside the compressed model.
 *
 * @param reportVersion version of this document's layout
 * @param status {@code complete} when every step ran, {@code partial} when a step failed and was left out
 * @param profile the profile id
 * @param original the input model
 * @param compressed the output model
 * @param plan every step as planned: plugin, version and all options (defaults included)
 * @param steps what each step did
 * @param gains size and parameter ratios, original over compressed
 * @param fidelity outputs of the compressed model against the original's on the same inputs
 * @param environment where it ran
 * @param totalMillis wall time of the whole job
 */
public record CompressionReport(int reportVersion, String status, String profile, ModelFacts original,
        ModelFacts compressed, List<PlanEntry> plan, List<StepReport> steps, Gains gains, FidelityReport fidelity,
        RuntimeInfo environment, long totalMillis) {

    public static final int VERSION = 1;

    /**
     * A model's identity and size.
     *
     * @param file the .onnx file (for the output: its name in the output folder)
     * @param dataFile its external data file, if any
     * @param digest sha256 of model and external data
     * @param bytes model plus external data on disk
     * @param parameters weight elements
     * @param weightBytes bytes of weights
     */
    public record ModelFacts(String file, Optional<String> dataFile, String digest, long bytes, long parameters,
            long weightBytes) {
    }

    /** One planned step, enough to reproduce it. */
    public record PlanEntry(String plugin, String version, Map<String, String> options) {
    }

    /**
     * One step as it ran.
     *
     * @param status {@code done} or {@code failed}
     * @param error why it failed, one line
     */
    public record StepReport(int index, String plugin, String version, String status, Optional<String> error,
            List<String> changes, List<PluginResult.Skipped> skipped, Map<String, Double> figures, long millis,
            long bytesBefore, long bytesAfter) {
    }

    /** Original over compressed: 4.0 means four times smaller. */
    public record Gains(double sizeRatio, double parameterRatio, long bytesSaved) {
    }

    /**
     * @param data what the models were compared on
     * @param runsInOnnxRuntime whether ONNX Runtime loaded and ran the compressed model
     * @param outputs per output figures; empty when not measured
     * @param unavailable why fidelity could not be measured, if so
     */
    public record FidelityReport(String data, boolean runsInOnnxRuntime, List<OutputFidelity> outputs,
            Optional<String> unavailable) {
    }
}

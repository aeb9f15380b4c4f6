package io.modelpress.engine;

import io.modelpress.inference.OutputFidelity;
import io.modelpress.engine.plan.Planning;
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
 * @param status {@code complete} when every step ran and real data judged the result; {@code unverified} when
 *     every step ran but only generated inputs judged it; {@code partial} when a step failed and was left out;
 *     {@code kept-original} when the planner found no candidate that meets the budget (or none could be judged)
 *     and the output is the original model, unchanged
 * @param profile the profile id
 * @param original the input model
 * @param compressed the output model
 * @param plan every step as planned: plugin, version and all options (defaults included)
 * @param steps what each step did
 * @param gains size and parameter ratios, original over compressed
 * @param fidelity outputs of the compressed model against the original's on the same inputs
 * @param accuracy top-1 and top-5 of both models on labelled evaluation data, when given
 * @param benchmark both models timed side by side in one process, unless skipped
 * @param environment where it ran
 * @param totalMillis wall time of the whole job
 * @param planning when the planner chose the chain: what it tried and why it chose this one
 * @param judging what judged the result: labelled data, real unlabelled data or generated inputs, and the split
 * @param hint for a result that is not {@code complete}: what would help (data to give, a budget to loosen)
 */
public record CompressionReport(int reportVersion, String status, String profile, ModelFacts original,
        ModelFacts compressed, List<PlanEntry> plan, List<StepReport> steps, Gains gains, FidelityReport fidelity,
        Optional<AccuracyReport> accuracy, Optional<BenchmarkReport> benchmark, RuntimeInfo environment,
        long totalMillis, Optional<Planning> planning, JudgingReport judging, Optional<String> hint) {

    public static final int VERSION = 1;

    public static final String COMPLETE = "complete";
    public static final String UNVERIFIED = "unverified";
    public static final String PARTIAL = "partial";
    public static final String KEPT_ORIGINAL = "kept-original";

    /** This report with the planner's search added, its status and hint. */
    public CompressionReport withPlanning(Planning search, String newStatus, Optional<String> newHint) {
        return new CompressionReport(reportVersion, newStatus, profile, original, compressed, plan, steps, gains,
                fidelity, accuracy, benchmark, environment, totalMillis, Optional.of(search), judging, newHint);
    }

    /** This report with the two models timed side by side. */
    public CompressionReport withBenchmark(Optional<BenchmarkReport> timing) {
        return new CompressionReport(reportVersion, status, profile, original, compressed, plan, steps, gains,
                fidelity, accuracy, timing, environment, totalMillis, planning, judging, hint);
    }

    /**
     * What judged a result.
     *
     * @param judgedOn {@code labelled-data}, {@code real-data} (unlabelled) or {@code generated-inputs}
     * @param verified false when generated inputs alone judged: nothing says the result holds on real inputs
     * @param split how the data was divided between tuning and judging, so no example judged a chain that tuned on it
     * @param tuningSamples samples the plugins could calibrate on
     * @param judgingSamples samples the result was judged on
     */
    public record JudgingReport(String judgedOn, boolean verified, String split, int tuningSamples,
            int judgingSamples) {
    }

    /**
     * A model's identity and size.
     *
     * @param file the .onnx file (for the output: its name in the output folder)
     * @param dataFile its external data file, if any
     * @param digest sha256 of model and external data
     * @param bytes model plus external data on disk
     * @param parameters weight values; a byte packing two 4-bit weights counts two (see {@code ModelSummary#parameters})
     * @param weightBytes bytes of weights
     * @param packagedBytes size after lossless packaging, when a step packaged it (figure {@code packaged-bytes})
     */
    public record ModelFacts(String file, Optional<String> dataFile, String digest, long bytes, long parameters,
            long weightBytes, Optional<Long> packagedBytes) {
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

    /**
     * Original over compressed: 4.0 means four times smaller.
     *
     * @param packagedSizeRatio original over packaged, when the chain packaged the model
     */
    public record Gains(double sizeRatio, double parameterRatio, long bytesSaved, Optional<Double> packagedSizeRatio) {
    }

    /**
     * @param output the scores output
     * @param examples labelled rows evaluated
     * @param top1Before top-1 of the original
     * @param top1After top-1 of the compressed model
     * @param top5Before top-5 of the original
     * @param top5After top-5 of the compressed model
     * @param top1Drop top1Before - top1After in percentage points (1 = one point lost), the unit of every drop
     */
    public record AccuracyReport(String output, long examples, double top1Before, double top1After, double top5Before,
            double top5After, double top1Drop) {
    }

    /**
     * @param original the original's timing (see {@link io.modelpress.inference.Benchmarker} for how it is taken)
     * @param compressed the compressed model's, timed in the same rounds
     * @param speedup original median latency over compressed
     * @param inputs what the models ran on
     * @param executionProvider the ONNX Runtime execution provider that ran both models
     * @param note what the timings do not say, as when the profile targets another provider
     * @param unavailable why the models could not be timed, if so
     */
    public record BenchmarkReport(Optional<io.modelpress.inference.ModelBenchmark> original,
            Optional<io.modelpress.inference.ModelBenchmark> compressed, double speedup,
            io.modelpress.inference.BenchmarkSettings settings, String inputs, String executionProvider,
            Optional<String> note, Optional<String> unavailable) {

        static BenchmarkReport unavailable(io.modelpress.inference.BenchmarkSettings settings, String reason) {
            return new BenchmarkReport(Optional.empty(), Optional.empty(), 0, settings, "none",
                    io.modelpress.inference.Benchmarker.EXECUTION_PROVIDER, Optional.empty(), Optional.of(reason));
        }
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

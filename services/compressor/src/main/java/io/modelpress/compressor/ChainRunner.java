package io.modelpress.compressor;

import io.modelpress.engine.ChainStep;
import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.CompressionReport;
import io.modelpress.engine.CompressionRequest;
import io.modelpress.engine.EngineException;
import io.modelpress.engine.job.PlanChoice;
import io.modelpress.engine.Evaluator;
import io.modelpress.engine.ProgressListener;
import io.modelpress.engine.Reports;
import io.modelpress.engine.plan.PlanRequest;
import io.modelpress.engine.plan.Planner;
import io.modelpress.inference.BenchmarkSettings;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.HardwareProfile;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Runs one profile's chain as it was chosen: a named chain through the engine, or the planner's search. */
final class ChainRunner {

    private final CompressionEngine engine;
    private final Optional<BenchmarkSettings> timing;

    /**
     * @param engine the job's own engine (cancelling it cancels this job only)
     * @param timing how the service times original and compressed side by side; empty to skip
     */
    ChainRunner(CompressionEngine engine, Optional<BenchmarkSettings> timing) {
        this.engine = engine;
        this.timing = timing;
    }

    /**
     * Checks a named chain before the model is read: plugins exist, serve the profile, take the options.
     *
     * @return the plan with every option, defaults included
     * @throws JobFailure at stage PLAN, naming the step and what is valid
     */
    List<EventData.PlanStep> plan(List<ChainStep> chain, HardwareProfile profile) {
        try {
            return engine.plan(chain, profile).stream()
                    .map(step -> new EventData.PlanStep(step.plugin().id(), step.plugin().plugin().version(),
                            step.options().asText()))
                    .toList();
        } catch (EngineException e) {
            throw new JobFailure(Stage.PLAN, false, e.getMessage(), e);
        }
    }

    /** Writes model.onnx (and its data) and report.json to {@code out}. */
    CompressionReport run(PlanChoice choice, Path model, HardwareProfile profile, Path out,
            Optional<CalibrationData> calibration, Optional<CalibrationData> evaluation, ProgressListener listener) {
        if (!choice.planned()) {
            return engine.compress(new CompressionRequest(model, profile, choice.chain(), out, calibration, evaluation,
                    timing), listener);
        }
        CompressionReport report;
        try {
            report = new Planner(engine).compress(new PlanRequest(model, profile, choice.budget().orElseThrow(), out,
                    calibration, evaluation), listener);
        } catch (EngineException e) {
            throw new JobFailure(Stage.PLAN, false, e.getMessage(), e);
        }
        return timed(report, model, profile, out, calibration, listener);
    }

    /**
     * The planner's choice timed against the original as the service times every result: the
     * planner times candidates only when a latency budget asks, and more briefly.
     */
    private CompressionReport timed(CompressionReport report, Path model, HardwareProfile profile, Path out,
            Optional<CalibrationData> calibration, ProgressListener listener) {
        if (timing.isEmpty() || !report.fidelity().runsInOnnxRuntime()) {
            return report;
        }
        listener.progress("benchmark", 1, "the chosen model and the original side by side");
        Optional<CompressionReport.BenchmarkReport> benchmark = Evaluator.benchmark(model,
                out.resolve(report.compressed().file()), new Evaluator.Data(calibration, Optional.empty(), timing,
                        profile.batchSize()), profile.executionProvider());
        CompressionReport timed = report.withBenchmark(benchmark);
        Reports.writeReport(out.resolve(Reports.FILE), timed);
        return timed;
    }

    /** A result is published only when the whole plan ran and the output runs in ONNX Runtime. */
    static void checkUsable(CompressionReport report) {
        List<String> failedSteps = report.steps().stream().filter(step -> !step.status().equals("done"))
                .map(step -> "step " + step.index() + " " + step.plugin() + " failed: " + step.error().orElse("no reason"))
                .toList();
        if (!failedSteps.isEmpty()) {
            throw new JobFailure(Stage.COMPRESS, false, String.join("; ", failedSteps));
        }
        if (!report.fidelity().runsInOnnxRuntime()) {
            throw new JobFailure(Stage.COMPRESS, false, "the compressed model does not run in ONNX Runtime: "
                    + report.fidelity().unavailable().orElse("no reason given"));
        }
    }
}

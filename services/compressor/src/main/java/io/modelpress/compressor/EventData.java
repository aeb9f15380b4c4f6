package io.modelpress.compressor;

import io.modelpress.engine.CompressionReport;
import io.modelpress.engine.job.PlanChoice;
import io.modelpress.engine.plan.Budget;
import io.modelpress.engine.plan.BudgetCheck;
import io.modelpress.engine.plan.Planning;
import io.modelpress.engine.plan.Trial;
import io.modelpress.inference.BenchmarkSettings;
import io.modelpress.inference.ModelBenchmark;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.inference.RuntimeInfo;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/** The data of the events this service publishes, as the schemas in {@code schemas/} describe them. */
public final class EventData {

    private EventData() {
    }

    public record PlanStep(String plugin, String version, Map<String, String> options) {
        static PlanStep of(CompressionReport.PlanEntry entry) {
            return new PlanStep(entry.plugin(), entry.version(), entry.options());
        }
    }

    public record FidelityOutput(String output, double meanCosine, double minCosine, double maxAbsError,
            double meanAbsError, double relativeError, OptionalDouble top1Agreement, int samples,
            OptionalDouble sequenceAgreement, OptionalDouble characterErrorRate) {
        static FidelityOutput of(OutputFidelity fidelity) {
            return new FidelityOutput(fidelity.output(), fidelity.meanCosine(), fidelity.minCosine(),
                    fidelity.maxAbsError(), fidelity.meanAbsError(), fidelity.relativeError(), fidelity.top1Agreement(),
                    fidelity.samples(), fidelity.sequenceAgreement(), fidelity.characterErrorRate());
        }
    }

    /** What judged a result: labelled data, real unlabelled data or generated inputs, and the split. */
    public record Judging(String judgedOn, boolean verified, String split, int tuningSamples, int judgingSamples) {
        static Judging of(CompressionReport.JudgingReport report) {
            return new Judging(report.judgedOn(), report.verified(), report.split(), report.tuningSamples(),
                    report.judgingSamples());
        }
    }

    public record CompressionResult(String modelId, String version, String profile, String status, boolean replayed,
            String inputDigest, List<PlanStep> plan, String planDigest, String requestDigest, Choice choice, Input input, Artifact artifact, Sizes sizes,
            Optional<Budgets> budgets, Optional<String> hint, Judging judging, Fidelity fidelity, Accuracy accuracy, Calibration calibration, List<Step> steps,
            Map<String, String> labels, long processingMillis, String completedAt) {
    }

    /**
     * How the chain was found, and for the planner what it tried and why it chose this one.
     *
     * @param by {@code event}, {@code configuration} or {@code planner}
     * @param metBudget whether the chosen chain meets every budget (else it was the closest)
     */
    public record Choice(String by, Optional<Boolean> metBudget, Optional<String> explanation,
            Optional<BudgetView> budget, Optional<String> dropMeasure, List<Candidate> candidates,
            List<BudgetCheck> checks, Optional<Long> planningMillis) {
        static Choice named(String by) {
            return new Choice(by, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), List.of(),
                    List.of(), Optional.empty());
        }

        static Choice of(Planning planning) {
            int chosen = planning.chosen().map(Trial::index).orElse(-1);
            return new Choice(PlanChoice.PLANNER, Optional.of(planning.metBudget()), Optional.of(planning.explanation()),
                    Optional.of(BudgetView.of(planning.budget())), Optional.of(planning.dropMeasure()),
                    planning.trials().stream().map(trial -> Candidate.of(trial, trial.index() == chosen)).toList(),
                    planning.checks(), Optional.of(planning.planningMillis()));
        }
    }

    /** What the planner's result had to meet; the drop in percentage points, 1 being one point. */
    public record BudgetView(double maxAccuracyDrop, OptionalLong maxBytes, OptionalDouble maxLatencyMillis,
            OptionalLong maxMemoryBytes, double minMeanCosine, double minWorstCosine, long timeLimitMillis) {
        static BudgetView of(Budget budget) {
            return new BudgetView(budget.maxAccuracyDrop(), budget.maxBytes(), budget.maxLatencyMillis(),
                    budget.maxMemoryBytes(), budget.floors().meanCosine(), budget.floors().worstCosine(),
                    budget.timeLimit().toMillis());
        }
    }

    /** One chain the planner considered. */
    public record Candidate(String chain, String outcome, boolean chosen, Optional<Long> bytes, OptionalDouble drop,
            OptionalDouble latencyMillis, List<String> violations, Optional<String> reason, Optional<String> verdict) {
        static Candidate of(Trial trial, boolean chosen) {
            return new Candidate(trial.chainText(), trial.outcome(), chosen,
                    trial.outcome().equals(Trial.NOT_TRIED) ? Optional.empty() : Optional.of(trial.bytes()),
                    trial.drop(), trial.latencyMillis(), trial.violations(), trial.error(), trial.verdict());
        }
    }

    public record Input(String artifactUri, String digest, long bytes) {
    }

    public record Artifact(String uri, Optional<String> dataUri, String reportUri, String digest, long bytes,
            List<String> files) {
    }

    public record Sizes(long originalBytes, long compressedBytes, double sizeRatio, long bytesSaved,
            long originalParameters, long compressedParameters, double parameterRatio, Optional<Long> packagedBytes,
            Optional<Double> packagedSizeRatio) {
    }

    public record Budgets(Optional<SizeBudget> size) {
    }

    public record SizeBudget(long limitBytes, long actualBytes, boolean met) {
    }

    public record Fidelity(String data, boolean runsInOnnxRuntime, List<FidelityOutput> outputs,
            Optional<String> unavailable) {
    }

    public record Accuracy(boolean measured, Optional<String> reason, Optional<String> evaluationDataUri,
            Optional<AccuracyFigures> figures) {
    }

    public record AccuracyFigures(String output, long examples, double top1Before, double top1After, double top5Before,
            double top5After, double top1Drop) {
        static AccuracyFigures of(CompressionReport.AccuracyReport report) {
            return new AccuracyFigures(report.output(), report.examples(), report.top1Before(), report.top1After(),
                    report.top5Before(), report.top5After(), report.top1Drop());
        }
    }

    /** Original and compressed timed side by side in one process, where and with what caveat, or why not. */
    public record Latency(boolean measured, Optional<ModelBenchmark> original, Optional<ModelBenchmark> compressed,
            Optional<Double> speedup, Optional<BenchmarkSettings> settings, Optional<String> inputs,
            Optional<String> executionProvider, Optional<String> note, Optional<String> unavailable) {
        static Latency of(Optional<CompressionReport.BenchmarkReport> report, boolean enabled) {
            if (report.isEmpty()) {
                return new Latency(false, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                        Optional.empty(), Optional.empty(), Optional.empty(), Optional.of(enabled ? "not measured"
                                : "timing is switched off (MODELPRESS_BENCHMARK_ENABLED=false)"));
            }
            CompressionReport.BenchmarkReport timing = report.get();
            boolean measured = timing.original().isPresent() && timing.compressed().isPresent();
            return new Latency(measured, timing.original(), timing.compressed(),
                    measured ? Optional.of(timing.speedup()) : Optional.empty(), Optional.of(timing.settings()),
                    Optional.of(timing.inputs()), measured ? Optional.of(timing.executionProvider()) : Optional.empty(),
                    timing.note(), timing.unavailable());
        }
    }

    public record Calibration(boolean used, Optional<String> reason, Optional<String> dataUri) {
    }

    public record Step(int index, String plugin, String version, String status, int changes, int skipped, long millis) {
    }

    public record Benchmark(String modelId, String version, String profile, boolean replayed, String inputDigest,
            List<PlanStep> plan, String planDigest, String requestDigest, String source, ModelFacts original, ModelFacts compressed,
            Ratios ratios, List<FidelityOutput> fidelity, String fidelityData, Latency latency, RuntimeInfo environment,
            String measuredAt) {
    }

    public record ModelFacts(String digest, long bytes, long parameters, long weightBytes) {
        static ModelFacts of(CompressionReport.ModelFacts facts) {
            return new ModelFacts(facts.digest(), facts.bytes(), facts.parameters(), facts.weightBytes());
        }
    }

    public record Ratios(double size, double parameters) {
    }

    public record Progress(String modelId, String version, Optional<String> profile, String stage, double fraction,
            int percent, Optional<String> message, Optional<String> inputDigest, Optional<List<PlanStep>> plan,
            Optional<String> planDigest, Optional<String> requestDigest, String at) {
    }

    public record Failure(Optional<String> modelId, Optional<String> version, Optional<String> profile,
            Optional<String> inputDigest, Optional<List<PlanStep>> plan, Optional<String> planDigest,
            Optional<String> requestDigest, String stage,
            String reason, boolean retryable, IncomingRecord.Original original, String failedAt) {
    }
}

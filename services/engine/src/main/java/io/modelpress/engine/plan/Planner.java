package io.modelpress.engine.plan;

import io.modelpress.engine.ChainStep;
import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.CompressionReport;
import io.modelpress.engine.CompressionRequest;
import io.modelpress.engine.EngineException;
import io.modelpress.engine.Evaluator;
import io.modelpress.engine.Judging;
import io.modelpress.engine.ProgressListener;
import io.modelpress.engine.Reports;
import io.modelpress.inference.BenchmarkSettings;
import io.modelpress.inference.Benchmarker;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.model.LoadLimits;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.HardwareProfile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.stream.Stream;

/**
 * Automatic compression: tries the candidate chains for a profile, judges each in ONNX Runtime on
 * data it did not tune on (see {@link Judging}), and keeps the smallest result that meets the
 * budget and every output's fidelity floors. When none does, or none could be judged, the original
 * is kept (status {@code kept-original}) with what came closest and a hint of what would help.
 * When the time limit runs out it stops starting new candidates and judges those it tried.
 */
public final class Planner {

    /** Timing per candidate: enough to check a latency budget, short enough to try many. */
    static final BenchmarkSettings TRIAL_TIMING = new BenchmarkSettings(0, 3, 15);

    private final CompressionEngine engine;
    private final List<Candidates.Template> catalogue;

    public Planner(CompressionEngine engine) {
        this(engine, Candidates.CATALOGUE);
    }

    /** A planner that tries only these templates: for tests about judging rather than search. */
    Planner(CompressionEngine engine, List<Candidates.Template> catalogue) {
        this.engine = Objects.requireNonNull(engine, "engine is null");
        this.catalogue = List.copyOf(catalogue);
    }

    public CompressionReport compress(PlanRequest request, ProgressListener listener) {
        long started = System.nanoTime();
        Judging judging = Judging.of(request.calibration(), request.evaluation());
        Candidates.Matched matched = Candidates.match(engine.plugins(), request.profile(), judging.tuning().isPresent(),
                catalogue);
        if (matched.chains().isEmpty()) {
            throw new EngineException("no chain of the installed plugins serves profile '" + request.profile().id() + "': "
                    + matched.excluded().stream().map(e -> e.chain().get(e.chain().size() - 1).pluginId() + " (" + e.reason() + ")")
                    .distinct().reduce((a, b) -> a + ", " + b).orElse("no plugins"));
        }
        Budget budget = request.budget();
        if (!judging.verified()) {
            // Generated inputs say little about real ones: ask more of them.
            budget = budget.withFloors(budget.floors().stricter(Floors.GENERATED));
        }
        Optional<String> latencyNote = Optional.empty();
        if (budget.maxLatencyMillis().isPresent() && !Benchmarker.timesFor(request.profile().executionProvider())) {
            latencyNote = Optional.of("models are timed here on ONNX Runtime's CPU provider and the profile targets '"
                    + request.profile().executionProvider() + "', so these timings are not the target's");
        }
        Budget searched = latencyNote.isPresent() ? budget.withoutLatency() : budget;
        String dropMeasure = dropMeasure(judging);
        if (request.profile().requireRealData() && !judging.verified()) {
            String hint = "profile '" + request.profile().id() + "' requires real data before a result is published: "
                    + "give calibration data (real inputs) or labelled evaluation data";
            Planning planning = new Planning(Optional.empty(), false, "kept the original: " + hint, dropMeasure, budget,
                    List.of(), List.of(), elapsed(started), judging.judgedOn(), List.of(), Optional.empty());
            return keepOriginal(request, judging, planning, hint, listener);
        }
        Path trialsFolder = createTrialsFolder(engine);
        try {
            List<Trial> trials = new ArrayList<>();
            List<CompressionReport> reports = new ArrayList<>();
            int total = matched.chains().size();
            for (int i = 0; i < total; i++) {
                List<ChainStep> chain = matched.chains().get(i);
                String rationale = matched.templates().get(i).rationale();
                if (elapsed(started) > request.budget().timeLimit().toMillis()) {
                    trials.add(notTried(i, chain, rationale, "the planning time limit ran out first"));
                    reports.add(null);
                    continue;
                }
                double from = (double) i / total;
                listener.progress("plan " + (i + 1) + "/" + total, from, chainText(chain));
                CompressionReport report = runTrial(request, searched, chain, trialsFolder.resolve("trial-" + i), listener,
                        from, 1.0 / total);
                reports.add(report);
                trials.add(trial(i, chain, rationale, report, searched, dropMeasure,
                        operatorCheck(trialsFolder.resolve("trial-" + i), report, request.profile())));
            }
            matched.excluded().forEach(excluded -> trials.add(new Trial(trials.size(), excluded.chain(),
                    excluded.rationale(), Trial.NOT_TRIED, 0, Optional.empty(), OptionalDouble.empty(), OptionalDouble.empty(),
                    List.of(), Optional.of(excluded.reason()))));

            Optional<Trial> best = Selection.best(trials);
            Optional<Trial> closest = best.isPresent() ? Optional.empty() : Selection.closest(trials, searched);
            List<Trial> judged = verdicts(trials, best);
            if (best.isEmpty()) {
                String hint = Hints.keptOriginal(closest, trials, searched, judging);
                String explanation = (closest.isPresent()
                        ? "no candidate meets the budget; kept the original. The closest was " + closest.get().chainText()
                                + " (" + figures(closest.get(), dropMeasure) + "), which misses: "
                                + String.join("; ", closest.get().violations())
                        : "no candidate could be judged; kept the original")
                        + latencyNote.map(note -> "; the latency budget was not checked: " + note).orElse("");
                Planning planning = new Planning(Optional.empty(), false, explanation, dropMeasure, searched, judged,
                        Selection.pareto(trials), elapsed(started), judging.judgedOn(), List.of(),
                        closest.map(trial -> judged.get(trial.index())));
                return keepOriginal(request, judging, planning, hint, listener);
            }
            Trial winner = judged.get(best.get().index());
            String explanation = explain(winner, trials, dropMeasure)
                    + latencyNote.map(note -> "; the latency budget was not checked: " + note).orElse("");
            List<BudgetCheck> checks = checks(winner, budget, latencyNote, reports.get(winner.index()));
            Planning planning = new Planning(Optional.of(winner), true, explanation, dropMeasure, searched, judged,
                    Selection.pareto(judged), elapsed(started), judging.judgedOn(), checks, Optional.empty());
            CompressionReport trialReport = reports.get(winner.index());
            String status = !judging.verified() ? CompressionReport.UNVERIFIED : CompressionReport.COMPLETE;
            CompressionReport report = trialReport.withPlanning(planning, status, trialReport.hint());
            copyFiles(trialsFolder.resolve("trial-" + winner.index()), request.outputFolder());
            CompressionReport timed = timed(request, report, listener);
            Reports.writeReport(request.outputFolder().resolve(Reports.FILE), timed);
            listener.progress("done", 1, winner.chainText());
            return timed;
        } finally {
            deleteQuietly(trialsFolder);
        }
    }

    /** What "drop" means for this data, in percentage points. */
    private static String dropMeasure(Judging judging) {
        return switch (judging.judgedOn()) {
            case Judging.LABELLED -> "top-1 accuracy on the labelled evaluation data";
            case Judging.REAL -> "agreement with the original on held-out real data";
            default -> "agreement with the original on generated inputs";
        };
    }

    private CompressionReport keepOriginal(PlanRequest request, Judging judging, Planning planning, String hint,
            ProgressListener listener) {
        CompressionReport kept = engine.keepOriginal(request.model(), request.profile(), request.outputFolder(), judging);
        CompressionReport report = timed(request, kept.withPlanning(planning, CompressionReport.KEPT_ORIGINAL,
                Optional.of(hint)), listener);
        Reports.writeReport(request.outputFolder().resolve(Reports.FILE), report);
        listener.progress("done", 1, "kept the original");
        return report;
    }

    /** Each trial with why it was chosen or why it lost. */
    private static List<Trial> verdicts(List<Trial> trials, Optional<Trial> best) {
        List<Trial> judged = new ArrayList<>();
        for (Trial trial : trials) {
            String verdict;
            if (!trial.measured()) {
                verdict = trial.outcome().equals(Trial.FAILED) ? "failed: " + trial.error().orElse("no reason")
                        : "not tried: " + trial.error().orElse("no reason");
            } else if (!trial.violations().isEmpty()) {
                verdict = "misses: " + String.join("; ", trial.violations());
            } else if (best.isPresent() && best.get().index() == trial.index()) {
                verdict = "chosen: the smallest that meets every budget and floor";
            } else {
                Trial winner = best.orElseThrow();
                verdict = trial.bytes() > winner.bytes() ? "meets the budget but is larger than #" + winner.index()
                        + " (" + trial.bytes() + " against " + winner.bytes() + " bytes)"
                        : "meets the budget, as small as #" + winner.index() + " but less faithful (drop "
                                + String.format("%.2f", trial.drop().orElse(100)) + " points, fidelity "
                                + String.format("%.4f", trial.fidelityScore()) + " against "
                                + String.format("%.4f", winner.fidelityScore()) + ")";
            }
            judged.add(trial.withVerdict(verdict));
        }
        return judged;
    }

    /** Every budget of the chosen result, as met or not checked here with the reason. */
    private static List<BudgetCheck> checks(Trial chosen, Budget budget, Optional<String> latencyNote,
            CompressionReport report) {
        List<BudgetCheck> checks = new ArrayList<>();
        checks.add(BudgetCheck.measured("accuracy-drop", String.format("%.2f points", budget.maxAccuracyDrop()),
                String.format("%.2f points", chosen.drop().orElse(100)), chosen.drop().orElse(100) <= budget.maxAccuracyDrop()));
        checks.add(BudgetCheck.measured("fidelity-floors", String.format("mean cosine %.4f, worst %.4f",
                budget.floors().meanCosine(), budget.floors().worstCosine()), String.format("mean cosine %.4f, worst %.4f",
                        chosen.fidelity().stream().mapToDouble(o -> o.meanCosine()).min().orElse(0),
                        chosen.fidelity().stream().mapToDouble(o -> o.minCosine()).min().orElse(0)), true));
        budget.maxBytes().ifPresent(limit -> checks.add(BudgetCheck.measured("size", limit + " bytes",
                chosen.bytes() + " bytes", chosen.bytes() <= limit)));
        budget.maxLatencyMillis().ifPresent(limit -> checks.add(latencyNote.isPresent() || chosen.latencyMillis().isEmpty()
                ? BudgetCheck.notChecked("latency", limit + " ms", latencyNote.orElse("the models could not be timed: "
                        + report.benchmark().flatMap(CompressionReport.BenchmarkReport::unavailable).orElse("no timing")))
                : BudgetCheck.measured("latency", limit + " ms", String.format("%.2f ms", chosen.latencyMillis().getAsDouble()),
                        chosen.latencyMillis().getAsDouble() <= limit)));
        budget.maxMemoryBytes().ifPresent(limit -> checks.add(chosen.memoryBytes().isEmpty()
                ? BudgetCheck.notChecked("memory", limit + " bytes", "the session's memory could not be measured here")
                : new BudgetCheck("memory", limit + " bytes", Optional.of(chosen.memoryBytes().getAsLong() + " bytes"),
                        chosen.memoryBytes().getAsLong() <= limit ? BudgetCheck.MET : BudgetCheck.MISSED,
                        Optional.of("resident memory this process gained loading and warming up the compressed model's "
                                + "ONNX Runtime session on this host"))));
        return checks;
    }

    private CompressionReport runTrial(PlanRequest request, Budget budget, List<ChainStep> chain, Path folder, ProgressListener listener,
            double from, double span) {
        // Timed when a latency or memory budget asks: the benchmark also measures the session's memory.
        Optional<BenchmarkSettings> timing = budget.maxLatencyMillis().isPresent() || budget.maxMemoryBytes().isPresent()
                ? Optional.of(new BenchmarkSettings(request.profile().threads(), TRIAL_TIMING.warmup(),
                        TRIAL_TIMING.iterations()))
                : Optional.empty();
        CompressionRequest trial = new CompressionRequest(request.model(), request.profile(), chain, folder,
                request.calibration(), request.evaluation(), timing);
        return engine.compress(trial, (stage, fraction, message) ->
                listener.progress("plan: " + stage, from + span * fraction, message));
    }

    /** The written model's operators against an integer-only profile's precisions, when the chain produced one. */
    private static Optional<String> operatorCheck(Path trialFolder, CompressionReport report, HardwareProfile profile) {
        Path file = trialFolder.resolve(report.compressed().file());
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        return IntegerCompute.violation(OnnxModel.load(file, LoadLimits.DEFAULT), profile);
    }

    private static Trial trial(int index, List<ChainStep> chain, String rationale, CompressionReport report, Budget budget,
            String dropMeasure, Optional<String> operators) {
        Optional<String> failedStep = report.steps().stream().filter(step -> step.status().equals("failed"))
                .map(step -> step.plugin() + ": " + step.error().orElse("failed")).findFirst();
        if (failedStep.isPresent() || !report.fidelity().runsInOnnxRuntime()) {
            String error = failedStep.orElseGet(() -> "the result does not run in ONNX Runtime: "
                    + report.fidelity().unavailable().orElse("unknown reason"));
            return new Trial(index, chain, rationale, Trial.FAILED, report.compressed().bytes(),
                    report.compressed().packagedBytes(), OptionalDouble.empty(), OptionalDouble.empty(), List.of(),
                    Optional.of(error));
        }
        OptionalDouble drop = drop(report);
        OptionalDouble latency = report.benchmark().flatMap(CompressionReport.BenchmarkReport::compressed)
                .map(bench -> OptionalDouble.of(bench.p50Millis())).orElse(OptionalDouble.empty());
        OptionalLong memory = report.benchmark().flatMap(CompressionReport.BenchmarkReport::compressed)
                .filter(bench -> bench.sessionMemoryBytes() > 0)
                .map(bench -> OptionalLong.of(bench.sessionMemoryBytes())).orElse(OptionalLong.empty());
        List<String> violations = new ArrayList<>(Selection.violations(report.compressed().bytes(), latency, memory,
                drop.orElse(100), dropMeasure, report.fidelity().outputs(), budget));
        operators.ifPresent(violations::add);
        if (drop.isEmpty()) {
            violations.add("the drop could not be measured: " + report.fidelity().unavailable().orElse("no outputs compared"));
        }
        return new Trial(index, chain, rationale, Trial.MEASURED, report.compressed().bytes(),
                report.compressed().packagedBytes(), latency, drop, violations, Optional.empty(),
                report.fidelity().outputs(), memory, Optional.empty());
    }

    /**
     * In percentage points: lost top-1 accuracy when labelled data judged; otherwise the worst output's
     * lost agreement with the original: exact-sequence agreement for scores per position, top-1
     * agreement for other score outputs, mean cosine for the rest.
     */
    static OptionalDouble drop(CompressionReport report) {
        if (report.accuracy().isPresent()) {
            return OptionalDouble.of(Math.max(0, report.accuracy().get().top1Drop()));
        }
        List<OutputFidelity> outputs = report.fidelity().outputs();
        if (outputs.isEmpty()) {
            return OptionalDouble.empty();
        }
        return OptionalDouble.of(100 * outputs.stream().mapToDouble(output -> Math.max(0, 1 - agreement(output)))
                .max().orElse(1));
    }

    private static double agreement(OutputFidelity output) {
        if (output.sequenceAgreement().isPresent()) {
            return output.sequenceAgreement().getAsDouble();
        }
        return output.top1Agreement().isPresent() ? output.top1Agreement().getAsDouble() : output.meanCosine();
    }

    private static String figures(Trial trial, String dropMeasure) {
        return String.format("%d bytes, %s drop %s%s", trial.bytes(), dropMeasure,
                trial.drop().isPresent() ? String.format("%.2f points", trial.drop().getAsDouble()) : "unknown",
                trial.latencyMillis().isPresent() ? String.format(", p50 %.2f ms", trial.latencyMillis().getAsDouble()) : "");
    }

    private static String explain(Trial chosen, List<Trial> trials, String dropMeasure) {
        long measured = trials.stream().filter(Trial::measured).count();
        return "chose " + chosen.chainText() + ": the smallest of the " + trials.stream().filter(Trial::meetsBudget).count()
                + " candidates (of " + measured + " measured) that meet the budget and the fidelity floors ("
                + figures(chosen, dropMeasure) + ")";
    }

    private static Trial notTried(int index, List<ChainStep> chain, String rationale, String reason) {
        return new Trial(index, chain, rationale, Trial.NOT_TRIED, 0, Optional.empty(), OptionalDouble.empty(),
                OptionalDouble.empty(), List.of(), Optional.of(reason));
    }

    private static String chainText(List<ChainStep> chain) {
        return String.join(" -> ", chain.stream().map(ChainStep::toString).toList());
    }

    private static long elapsed(long started) {
        return (System.nanoTime() - started) / 1_000_000;
    }

    /**
     * The chosen model timed against the original as the request asks, the way a named chain's result
     * is timed, so that report.json is written once with the figures every adapter publishes.
     */
    private static CompressionReport timed(PlanRequest request, CompressionReport report, ProgressListener listener) {
        if (request.timing().isEmpty() || !report.fidelity().runsInOnnxRuntime()) {
            return report;
        }
        listener.progress("benchmark", 0.97, "the chosen model and the original side by side");
        return report.withBenchmark(Evaluator.benchmark(request.model(),
                request.outputFolder().resolve(report.compressed().file()), new Evaluator.Data(request.calibration(),
                        Optional.empty(), request.timing(), request.profile().batchSize()),
                request.profile().executionProvider()));
    }

    /** Copies the chosen trial's files into the output folder; the report is written after. */
    private static void copyFiles(Path trialFolder, Path outputFolder) {
        try {
            Files.createDirectories(outputFolder);
            try (Stream<Path> files = Files.list(trialFolder)) {
                for (Path file : files.toList()) {
                    Files.copy(file, outputFolder.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException e) {
            throw new EngineException("cannot write to " + outputFolder + ": " + e.getMessage(), e);
        }
    }

    private static Path createTrialsFolder(CompressionEngine engine) {
        try {
            return engine.createTempFolder("modelpress-plan-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteQuietly(Path folder) {
        try (Stream<Path> files = Files.walk(folder)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException ignored) {
            // a temp folder left behind is harmless
        }
    }
}

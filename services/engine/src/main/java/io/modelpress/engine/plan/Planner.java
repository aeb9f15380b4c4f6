package io.modelpress.engine.plan;

import io.modelpress.engine.ChainStep;
import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.CompressionReport;
import io.modelpress.engine.CompressionRequest;
import io.modelpress.engine.EngineException;
import io.modelpress.engine.ProgressListener;
import io.modelpress.engine.Reports;
import io.modelpress.inference.BenchmarkSettings;
import io.modelpress.inference.Benchmarker;
import io.modelpress.inference.OutputFidelity;
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
import java.util.stream.Stream;

/**
 * Automatic compression: tries the candidate chains for a profile, measures each in ONNX Runtime
 * on the same data, and keeps the smallest result that meets the budget — or, when none does,
 * the one that comes closest, with the reason. When the time limit runs out it stops starting
 * new candidates and returns the best found so far.
 */
public final class Planner {

    /** Timing per candidate: enough to check a latency budget, short enough to try many. */
    static final BenchmarkSettings TRIAL_TIMING = new BenchmarkSettings(0, 3, 15);

    private final CompressionEngine engine;

    public Planner(CompressionEngine engine) {
        this.engine = Objects.requireNonNull(engine, "engine is null");
    }

    public CompressionReport compress(PlanRequest request, ProgressListener listener) {
        long started = System.nanoTime();
        Candidates.Matched matched = Candidates.match(engine.plugins(), request.profile(), request.calibration().isPresent());
        if (matched.chains().isEmpty()) {
            throw new EngineException("no chain of the installed plugins serves profile '" + request.profile().id() + "': "
                    + matched.excluded().stream().map(e -> e.chain().get(e.chain().size() - 1).pluginId() + " (" + e.reason() + ")")
                    .distinct().reduce((a, b) -> a + ", " + b).orElse("no plugins"));
        }
        Budget budget = request.budget();
        Optional<String> latencyNote = Optional.empty();
        if (budget.maxLatencyMillis().isPresent() && !Benchmarker.timesFor(request.profile().executionProvider())) {
            budget = budget.withoutLatency();
            latencyNote = Optional.of("the latency budget was not checked: models are timed here on ONNX Runtime's "
                    + "CPU provider and the profile targets '" + request.profile().executionProvider()
                    + "', so these timings are not the target's");
        }
        String dropMeasure = request.evaluation().isPresent()
                ? "top-1 accuracy on the evaluation data" : "fidelity to the original's outputs";
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
                CompressionReport report = runTrial(request, budget, chain, trialsFolder.resolve("trial-" + i), listener, from,
                        1.0 / total);
                reports.add(report);
                trials.add(trial(i, chain, rationale, report, budget, dropMeasure));
            }
            matched.excluded().forEach(excluded -> trials.add(new Trial(trials.size(), excluded.chain(),
                    excluded.rationale(), Trial.NOT_TRIED, 0, Optional.empty(), OptionalDouble.empty(), OptionalDouble.empty(),
                    List.of(), Optional.of(excluded.reason()))));

            Optional<Trial> best = Selection.best(trials);
            Optional<Trial> chosen = best.isPresent() ? best : Selection.closest(trials, budget);
            if (chosen.isEmpty()) {
                throw new EngineException("no candidate chain produced a model that runs: "
                        + trials.stream().filter(t -> t.error().isPresent()).map(t -> t.chainText() + ": " + t.error().get())
                        .findFirst().orElse("all failed"));
            }
            Trial winner = chosen.get();
            String explanation = explain(winner, best.isPresent(), trials, dropMeasure)
                    + latencyNote.map(note -> "; " + note).orElse("");
            Planning planning = new Planning(chosen, best.isPresent(), explanation, dropMeasure, budget, trials, Selection.pareto(trials), elapsed(started));
            CompressionReport report = reports.get(winner.index()).withPlanning(planning);
            publish(trialsFolder.resolve("trial-" + winner.index()), request.outputFolder(), report);
            listener.progress("done", 1, winner.chainText());
            return report;
        } finally {
            deleteQuietly(trialsFolder);
        }
    }

    private CompressionReport runTrial(PlanRequest request, Budget budget, List<ChainStep> chain, Path folder, ProgressListener listener,
            double from, double span) {
        Optional<BenchmarkSettings> timing = budget.maxLatencyMillis().isPresent()
                ? Optional.of(new BenchmarkSettings(request.profile().threads(), TRIAL_TIMING.warmup(),
                        TRIAL_TIMING.iterations()))
                : Optional.empty();
        CompressionRequest trial = new CompressionRequest(request.model(), request.profile(), chain, folder,
                request.calibration(), request.evaluation(), timing);
        return engine.compress(trial, (stage, fraction, message) ->
                listener.progress("plan: " + stage, from + span * fraction, message));
    }

    private static Trial trial(int index, List<ChainStep> chain, String rationale, CompressionReport report, Budget budget,
            String dropMeasure) {
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
        List<String> violations = new ArrayList<>(Selection.violations(report.compressed().bytes(), latency,
                drop.orElse(1), dropMeasure, budget));
        if (drop.isEmpty()) {
            violations.add("the drop could not be measured: " + report.fidelity().unavailable().orElse("no outputs compared"));
        }
        return new Trial(index, chain, rationale, Trial.MEASURED, report.compressed().bytes(),
                report.compressed().packagedBytes(), latency, drop, violations, Optional.empty());
    }

    /**
     * Lost top-1 accuracy when labelled data was given; otherwise the worst output's lost
     * fidelity: 1 - top-1 agreement for score outputs, 1 - mean cosine for others.
     */
    static OptionalDouble drop(CompressionReport report) {
        if (report.accuracy().isPresent()) {
            return OptionalDouble.of(Math.max(0, report.accuracy().get().top1Drop()));
        }
        List<OutputFidelity> outputs = report.fidelity().outputs();
        if (outputs.isEmpty()) {
            return OptionalDouble.empty();
        }
        return OptionalDouble.of(outputs.stream().mapToDouble(output -> Math.max(0,
                output.top1Agreement().isPresent() ? 1 - output.top1Agreement().getAsDouble() : 1 - output.meanCosine()))
                .max().orElse(1));
    }

    private static String explain(Trial chosen, boolean metBudget, List<Trial> trials, String dropMeasure) {
        long measured = trials.stream().filter(Trial::measured).count();
        String figures = String.format("%d bytes, %s drop %s%s", chosen.bytes(), dropMeasure,
                chosen.drop().isPresent() ? String.format("%.2f points", chosen.drop().getAsDouble() * 100) : "unknown",
                chosen.latencyMillis().isPresent() ? String.format(", p50 %.2f ms", chosen.latencyMillis().getAsDouble()) : "");
        if (metBudget) {
            return "chose " + chosen.chainText() + ": the smallest of the " + trials.stream().filter(Trial::meetsBudget).count()
                    + " candidates (of " + measured + " measured) that meet the budget (" + figures + ")";
        }
        return "no candidate meets the budget; the closest is " + chosen.chainText() + " (" + figures + "), which misses it: "
                + String.join("; ", chosen.violations());
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

    /** Moves the chosen trial's files into the output folder and writes the report with the planning in it. */
    private static void publish(Path trialFolder, Path outputFolder, CompressionReport report) {
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
        Reports.writeReport(outputFolder.resolve(Reports.FILE), report);
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

package io.modelpress.engine.plan;

import io.modelpress.engine.ChainStep;
import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.CompressionReport;
import io.modelpress.engine.CompressionRequest;
import io.modelpress.engine.EngineException;
import io.modelpress.engine.Evaluator;
import io.modelpress.engine.Judging;
import io.modelpress.engine.Measurement;
import io.modelpress.engine.ProgressListener;
import io.modelpress.engine.Reference;
import io.modelpress.engine.ReportHtml;
import io.modelpress.engine.Reports;
import io.modelpress.inference.BenchmarkSettings;
import io.modelpress.inference.Benchmarker;
import io.modelpress.inference.InputGenerator;
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

    private static final String PACKAGE = "package";

    /** Why a candidate was not tried when the time limit cut the search. */
    public static final String TIME_RAN_OUT = "the planning time limit ran out first";

    private final CompressionEngine engine;
    private final List<Candidates.Template> catalogue;
    private final boolean probe;

    public Planner(CompressionEngine engine) {
        this(engine, Candidates.CATALOGUE);
    }

    /** A planner that tries only these templates: for tests about judging rather than search. */
    Planner(CompressionEngine engine, List<Candidates.Template> catalogue) {
        this(engine, catalogue, true);
    }

    /**
     * @param probe whether a candidate the probe rules out is judged no further; without it every
     *     candidate is judged on all the judging data (for tests that the probe never changes a choice)
     */
    Planner(CompressionEngine engine, List<Candidates.Template> catalogue, boolean probe) {
        this.engine = Objects.requireNonNull(engine, "engine is null");
        this.catalogue = List.copyOf(catalogue);
        this.probe = probe;
    }

    public CompressionReport compress(PlanRequest request, ProgressListener listener) {
        long started = System.nanoTime();
        Judging judging = Judging.of(request.calibration(), request.evaluation());
        OnnxModel original = engine.load(request.model());
        Candidates.Matched matched = Candidates.match(engine.plugins(), request.profile(), judging.tuning().isPresent(),
                original, catalogue);
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
        Evaluator.Data judgingData = new Evaluator.Data(judging.judge(), judging.labelled(), Optional.empty(),
                request.profile().batchSize(), InputGenerator.indexBounds(original));
        Budget probeBudget = searched;
        boolean labelled = judging.labelled().isPresent();
        try (Reference reference = Reference.open(request.model(), judgingData,
                (figures, probed, all) -> probe ? Probe.cannotMeet(figures, probed, all, probeBudget, labelled)
                        : Optional.empty())) {
            List<Trial> trials = new ArrayList<>();
            List<CompressionReport> reports = new ArrayList<>();
            Optional<CompressionEngine.Prefix> prefix = Optional.empty();
            int total = matched.chains().size();
            for (int i = 0; i < total; i++) {
                List<ChainStep> chain = matched.chains().get(i);
                String rationale = matched.templates().get(i).rationale();
                // Checked between candidates only, in the fixed order: a cut-off leaves the later ones untried.
                if (elapsed(started) > request.budget().timeLimit().toMillis()) {
                    trials.add(notTried(i, chain, rationale, TIME_RAN_OUT));
                    reports.add(null);
                    continue;
                }
                double from = (double) i / total;
                // Every line says which candidate runs, how many are done and the best so far.
                String label = "plan " + (i + 1) + "/" + total;
                String standing = i + " of " + total + " done, best so far: "
                        + Selection.best(trials).map(Planner::brief).orElse("none yet");
                listener.progress(label, from, chainText(chain) + "; " + standing);
                Path folder = trialsFolder.resolve("trial-" + i);
                List<ChainStep> run = searched(chain);
                CompressionReport report = runTrial(request, run, folder, (stage, fraction, message) -> listener.progress(
                        label + " " + stage, fraction, chainText(chain) + (message.isEmpty() ? "" : ": " + message)
                                + "; " + standing), from, 1.0 / total, reference, prefix);
                Trial trial = trial(i, chain, rationale, report, searched, dropMeasure,
                        operatorCheck(folder, report, request.profile()), reference.stoppedOnProbe());
                if (trial.meetsBudget() && timed(searched)) {
                    // Timed only when everything else is met: a latency cannot save a candidate that misses.
                    report = report.withBenchmark(time(request, folder.resolve(report.compressed().file()), judging,
                            original));
                    trial = trial(i, chain, rationale, report, searched, dropMeasure,
                            operatorCheck(folder, report, request.profile()), Optional.empty());
                }
                reports.add(report);
                trials.add(trial);
                prefix = prefix.isPresent() ? prefix : sharedPrefix(original, run, report, folder, matched.chains(), i);
            }
            matched.excluded().forEach(excluded -> trials.add(new Trial(trials.size(), excluded.chain(),
                    excluded.rationale(), Trial.NOT_TRIED, 0, Optional.empty(), OptionalDouble.empty(), OptionalDouble.empty(),
                    List.of(), Optional.of(excluded.reason()))));
            MemoryCheck memory = new MemoryCheck(searched, request.profile(), judging, listener);
            memory.settle(trials, index -> trialsFolder.resolve("trial-" + index).resolve(reports.get(index).compressed().file()));

            Optional<Trial> best = Selection.best(trials);
            Optional<Trial> closest = best.isPresent() ? Optional.empty() : Selection.closest(trials, searched);
            List<Trial> judged = verdicts(trials, best);
            if (best.isEmpty()) {
                String hint = Hints.keptOriginal(closest, trials, searched, judging);
                String explanation = (closest.isPresent()
                        ? "no candidate meets the budget; kept the original. The closest was " + closest.get().chainText()
                                + " (" + figures(closest.get(), dropMeasure) + "), which misses: "
                                + String.join("; ", closest.get().violations())
                        : "no candidate could be judged; kept the original") + cutShort(trials)
                        + latencyNote.map(note -> "; the latency budget was not checked: " + note).orElse("");
                Planning planning = new Planning(Optional.empty(), false, explanation, dropMeasure, searched, judged,
                        Selection.pareto(trials), elapsed(started), judging.judgedOn(), List.of(),
                        closest.map(trial -> judged.get(trial.index())));
                return keepOriginal(request, judging, planning, hint, listener);
            }
            Trial winner = judged.get(best.get().index());
            if (searched(winner.chain()).size() < winner.chain().size()) {
                CompressionReport packaged = finishPackaging(request, winner, reports.get(winner.index()), original,
                        trialsFolder.resolve("trial-" + winner.index()), listener);
                reports.set(winner.index(), packaged);
                winner = winner.withPackagedBytes(packaged.compressed().packagedBytes());
                judged.set(winner.index(), winner);
            }
            String explanation = explain(winner, trials, dropMeasure)
                    + latencyNote.map(note -> "; the latency budget was not checked: " + note).orElse("");
            List<BudgetCheck> checks = checks(winner, budget, latencyNote, reports.get(winner.index()));
            memory.budgetCheck(winner).ifPresent(checks::add);
            checks.add(OperatorCheck.budgetCheck(operators(trialsFolder.resolve("trial-" + winner.index()),
                    reports.get(winner.index()), request.profile()), request.profile()));
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
        return checks;
    }

    private CompressionReport runTrial(PlanRequest request, List<ChainStep> chain, Path folder, ProgressListener listener,
            double from, double span, Reference reference, Optional<CompressionEngine.Prefix> prefix) {
        CompressionRequest trial = new CompressionRequest(request.model(), request.profile(), chain, folder,
                request.calibration(), request.evaluation(), Optional.empty());
        return engine.compress(trial, (stage, fraction, message) ->
                listener.progress(stage, from + span * fraction, message), reference, prefix);
    }

    /**
     * The steps a candidate is searched with: a trailing {@code package} step returns the model unchanged
     * (it writes a compressed copy beside it), so nothing the search compares depends on it, and it runs
     * for the chosen candidate only (zstd at level 19 on a large model takes minutes).
     */
    static List<ChainStep> searched(List<ChainStep> chain) {
        return chain.size() > 1 && chain.get(chain.size() - 1).pluginId().equals(PACKAGE)
                ? chain.subList(0, chain.size() - 1) : chain;
    }

    /** The chosen candidate's deferred packaging, run on its model; its measured figures are kept as they are. */
    private CompressionReport finishPackaging(PlanRequest request, Trial winner, CompressionReport searchedReport,
            OnnxModel original, Path folder, ProgressListener listener) {
        List<ChainStep> run = searched(winner.chain());
        CompressionEngine.Prefix done = new CompressionEngine.Prefix(original, run,
                engine.load(folder.resolve(searchedReport.compressed().file())), searchedReport.steps());
        CompressionRequest trial = new CompressionRequest(request.model(), request.profile(), winner.chain(), folder,
                request.calibration(), request.evaluation(), Optional.empty());
        Measurement measured = (originalFile, compressed, data, provider, progress) -> new Measurement.Measured(
                searchedReport.fidelity(), searchedReport.accuracy(), searchedReport.benchmark());
        return engine.compress(trial, (stage, fraction, message) -> listener.progress("plan: package the choice "
                + stage, 0.99, message), measured, Optional.of(done));
    }

    /** Whether candidates are timed: a latency budget asks (memory is measured apart, for finalists only: see MemoryCheck). */
    private static boolean timed(Budget budget) {
        return budget.maxLatencyMillis().isPresent();
    }

    private static Optional<CompressionReport.BenchmarkReport> time(PlanRequest request, Path compressed, Judging judging,
            OnnxModel original) {
        // Candidates are compared on latency alone, in fewer rounds and a shorter time than the final timing.
        BenchmarkSettings settings = BenchmarkSettings.of(request.profile().threads(), 3, 15).capped(60, 30)
                .withoutMemory();
        Evaluator.Data data = new Evaluator.Data(judging.judge(), Optional.empty(), Optional.of(settings),
                request.profile().batchSize(), InputGenerator.indexBounds(original));
        return Evaluator.benchmark(request.model(), compressed, data, request.profile().executionProvider());
    }

    /**
     * A finished candidate whose chain begins a later one (the lossless clean-up begins almost every
     * chain): its model is where those later chains start, instead of running the same steps again.
     * Only a chain that wrote nothing but its model qualifies, so that no step's artifact goes missing.
     */
    private Optional<CompressionEngine.Prefix> sharedPrefix(OnnxModel original, List<ChainStep> chain,
            CompressionReport report, Path folder, List<List<ChainStep>> chains, int index) {
        boolean begins = chains.subList(index + 1, chains.size()).stream()
                .anyMatch(later -> later.size() > chain.size() && later.subList(0, chain.size()).equals(chain));
        boolean done = report.steps().size() == chain.size()
                && report.steps().stream().allMatch(step -> step.status().equals("done"));
        if (!begins || !done || !onlyModelIn(folder, report)) {
            return Optional.empty();
        }
        return Optional.of(new CompressionEngine.Prefix(original, chain,
                engine.load(folder.resolve(report.compressed().file())), report.steps()));
    }

    private static boolean onlyModelIn(Path folder, CompressionReport report) {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(file -> file.getFileName().toString()).allMatch(name -> name.equals(report.compressed().file())
                    || report.compressed().dataFile().map(name::equals).orElse(false) || name.equals(Reports.FILE)
                    || name.equals(ReportHtml.FILE));
        } catch (IOException e) {
            return false;
        }
    }

    /** A finished candidate in a few words, for progress. */
    private static String brief(Trial trial) {
        return trial.chainText() + String.format(java.util.Locale.ROOT, ", %.1f MiB, drop %.2f points", trial.bytes() / 1048576.0,
                trial.drop().orElse(100));
    }

    /** Why the written model's operators do not fit the profile (see {@link OperatorCheck}), when the chain produced one. */
    private static Optional<String> operatorCheck(Path trialFolder, CompressionReport report, HardwareProfile profile) {
        return operators(trialFolder, report, profile).flatMap(check -> check.violation(profile));
    }

    private static Optional<OperatorCheck> operators(Path trialFolder, CompressionReport report, HardwareProfile profile) {
        Path file = trialFolder.resolve(report.compressed().file());
        if (!OperatorCheck.applies(profile) || !Files.exists(file)) {
            return Optional.empty();
        }
        return Optional.of(OperatorCheck.of(OnnxModel.load(file, LoadLimits.DEFAULT), profile));
    }

    private static Trial trial(int index, List<ChainStep> chain, String rationale, CompressionReport report, Budget budget,
            String dropMeasure, Optional<String> operators, Optional<String> stoppedOnProbe) {
        Optional<String> failedStep = report.steps().stream().filter(step -> step.status().equals("failed"))
                .map(step -> step.plugin() + ": " + step.error().orElse("failed")).findFirst();
        if (failedStep.isPresent() || !report.fidelity().runsInOnnxRuntime()) {
            String error = failedStep.orElseGet(() -> "the result does not run in ONNX Runtime: "
                    + report.fidelity().unavailable().orElse("unknown reason"));
            return new Trial(index, chain, rationale, Trial.FAILED, report.compressed().bytes(),
                    report.compressed().packagedBytes(), OptionalDouble.empty(), OptionalDouble.empty(), List.of(),
                    Optional.of(error));
        }
        if (stoppedOnProbe.isPresent()) {
            // Judged on the probe only: its figures are the probe's, the drop over all samples is unknown.
            List<String> violations = new ArrayList<>(List.of(stoppedOnProbe.get()));
            violations.addAll(Selection.violations(report.compressed().bytes(), OptionalDouble.empty(), 0, dropMeasure,
                    budget));
            operators.ifPresent(violations::add);
            return new Trial(index, chain, rationale, Trial.MEASURED, report.compressed().bytes(),
                    report.compressed().packagedBytes(), OptionalDouble.empty(), OptionalDouble.empty(), violations,
                    Optional.empty(), report.fidelity().outputs(), OptionalLong.empty(), Optional.empty());
        }
        OptionalDouble drop = drop(report);
        OptionalDouble latency = report.benchmark().flatMap(CompressionReport.BenchmarkReport::compressed)
                .map(bench -> OptionalDouble.of(bench.p50Millis())).orElse(OptionalDouble.empty());
        // Memory is left to MemoryCheck, which measures finalists in a process of their own.
        OptionalLong memory = OptionalLong.empty();
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
                + figures(chosen, dropMeasure) + ")" + cutShort(trials);
    }

    /** When the time limit cut the search: which candidates it left out, so a reader knows the choice is of a prefix. */
    private static String cutShort(List<Trial> trials) {
        List<String> untried = trials.stream().filter(trial -> trial.error().orElse("").equals(TIME_RAN_OUT))
                .map(trial -> "#" + trial.index()).toList();
        return untried.isEmpty() ? "" : "; the time limit ran out before " + String.join(", ", untried)
                + ", so this is the best of the candidates tried before them in the fixed order";
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

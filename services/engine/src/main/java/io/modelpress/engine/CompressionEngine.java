package io.modelpress.engine;

import io.modelpress.engine.plugin.LoadedPlugin;
import io.modelpress.engine.data.InputCheck;
import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.inference.InputGenerator;
import io.modelpress.inference.OrtEnvironments;
import io.modelpress.inference.RuntimeInfo;
import io.modelpress.model.LoadLimits;
import io.modelpress.model.ModelException;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.SavedModel;
import io.modelpress.model.WeightIndex;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.OptionException;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * Runs a chain of plugins on a model, writes the result and a report of what was gained and lost.
 * Plain Java: the CLI, the service and tests all drive it the same way.
 */
public final class CompressionEngine {

    /** The figure a packaging plugin reports its packaged size under. */
    public static final String PACKAGED_BYTES = "packaged-bytes";

    /** What would turn a result judged on generated inputs into a verified one. */
    public static final String GENERATED_HINT = "only generated inputs judged this result: give real inputs "
            + "(calibration data, or labelled evaluation data) so it is judged on what the model will see";

    private final PluginRegistry plugins;
    private final LoadLimits limits;
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final Optional<Path> tempFolder;
    private final StepLimit stepLimit;

    public CompressionEngine(PluginRegistry plugins, LoadLimits limits) {
        this(plugins, limits, Optional.empty());
    }

    /**
     * @param tempFolder where steps and the planner keep their temporary files; empty for the
     *        JVM's temp folder. A server gives each job a folder of its own, so that a job's
     *        files count against its work folder and go when the job's folder goes.
     */
    public CompressionEngine(PluginRegistry plugins, LoadLimits limits, Optional<Path> tempFolder) {
        this(plugins, limits, tempFolder, StepLimit.DEFAULT);
    }

    /** @param stepLimit how long each plugin call may run before it is cancelled, then left behind */
    public CompressionEngine(PluginRegistry plugins, LoadLimits limits, Optional<Path> tempFolder, StepLimit stepLimit) {
        this.plugins = Objects.requireNonNull(plugins, "plugins is null");
        this.limits = Objects.requireNonNull(limits, "limits is null");
        this.tempFolder = Objects.requireNonNull(tempFolder, "tempFolder is null");
        this.stepLimit = Objects.requireNonNull(stepLimit, "stepLimit is null");
        OrtEnvironments.shared(); // before any plugin touches ONNX Runtime
    }

    /** A new temporary folder under this engine's temp folder (created if missing). */
    public Path createTempFolder(String prefix) throws IOException {
        if (tempFolder.isEmpty()) {
            return Files.createTempDirectory(prefix);
        }
        Files.createDirectories(tempFolder.get());
        return Files.createTempDirectory(tempFolder.get(), prefix);
    }

    public PluginRegistry plugins() {
        return plugins;
    }

    /** Asks the running job to stop at the next check; its plugins see {@code isCancelled()}. */
    public void cancel() {
        cancelled.set(true);
    }

    /** A step with its plugin found and its options checked. */
    public record PlannedStep(LoadedPlugin plugin, PluginOptions options) {
        CompressionReport.PlanEntry entry() {
            return new CompressionReport.PlanEntry(plugin.id(), plugin.plugin().version(), options.asText());
        }
    }

    /**
     * Checks a chain before anything runs: plugins exist, serve the profile, and take these options.
     *
     * @throws EngineException naming the step and what is valid
     */
    public List<PlannedStep> plan(List<ChainStep> chain, HardwareProfile profile) {
        if (chain.isEmpty()) {
            throw new EngineException("the chain is empty: name at least one plugin");
        }
        List<PlannedStep> planned = new ArrayList<>();
        for (ChainStep step : chain) {
            LoadedPlugin plugin = plugins.require(step.pluginId());
            if (!plugin.plugin().serves(profile)) {
                throw new EngineException("plugin '" + step.pluginId() + "' does not serve profile '" + profile.id()
                        + "': it needs " + labels(plugin.plugin().requiredPrecisions()) + ", the profile runs "
                        + labels(profile.precisions()));
            }
            try {
                planned.add(new PlannedStep(plugin, PluginOptions.resolve(plugin.plugin().options(), step.options())));
            } catch (OptionException e) {
                throw new EngineException("plugin '" + step.pluginId() + "': " + e.getMessage());
            }
        }
        return planned;
    }

    /**
     * Loads the model, runs the chain, writes {@code model.onnx} and {@code report.json} to the
     * output folder and measures the result against the original in ONNX Runtime. A step whose
     * plugin fails, or runs past its time limit, is reported and left out; the next step runs on the
     * last good model.
     *
     * @throws EngineException for bad input: an unknown plugin, invalid options, an invalid model
     */
    public CompressionReport compress(CompressionRequest request, ProgressListener listener) {
        return compress(request, listener, Measurement.FULL, Optional.empty());
    }

    /**
     * The first steps of a chain, already run: the planner runs a prefix its candidates share once.
     *
     * @param original the original model as loaded: where the chain started, what every later step sees as
     *     {@code PluginContext.original()}
     * @param chain the steps that ran
     * @param model the model they produced
     * @param steps their reports
     */
    public record Prefix(OnnxModel original, List<ChainStep> chain, OnnxModel model,
            List<CompressionReport.StepReport> steps) {

        public Prefix {
            Objects.requireNonNull(original, "original is null");
            chain = List.copyOf(chain);
            Objects.requireNonNull(model, "model is null");
            steps = List.copyOf(steps);
        }
    }

    /**
     * As {@link #compress(CompressionRequest, ProgressListener)}, measured as given, and starting after
     * {@code prefix} when the request's chain begins with its steps (they are not run again).
     */
    public CompressionReport compress(CompressionRequest request, ProgressListener listener, Measurement measurement,
            Optional<Prefix> prefix) {
        long started = System.nanoTime();
        cancelled.set(false);
        List<PlannedStep> planned = plan(request.chain(), request.profile());
        listener.progress("load", 0, request.model().getFileName().toString());
        Optional<Prefix> start = prefix.filter(p -> p.steps().size() == p.chain().size()
                && request.chain().size() >= p.chain().size()
                && request.chain().subList(0, p.chain().size()).equals(p.chain()));
        OnnxModel original = start.map(Prefix::original).orElseGet(() -> load(request.model()));
        request.calibration().ifPresent(data -> InputCheck.check(original, data, "calibration data"));
        request.evaluation().ifPresent(data -> {
            InputCheck.check(original, data, "evaluation data");
            Evaluator.checkLabels(request.model(), data);
        });
        Judging judging = Judging.of(request.calibration(), request.evaluation());
        CompressionReport.ModelFacts originalFacts = facts(request.model(), original, original.sourceDigest().orElseThrow(),
                original.sourceBytes(), Optional.empty(), Optional.empty());

        List<CompressionReport.StepReport> steps = new ArrayList<>(start.map(Prefix::steps).orElse(List.of()));
        OnnxModel current = start.map(Prefix::model).orElse(original);
        int total = planned.size();
        for (int i = steps.size(); i < total; i++) {
            PlannedStep step = planned.get(i);
            String stage = "step " + (i + 1) + "/" + total + " " + step.plugin().id();
            double from = 0.05 + 0.75 * i / total;
            double span = 0.75 / total;
            listener.progress(stage, from, "");
            StepOutcome outcome = runStep(i + 1, step, current, original, request, judging.tuning(), (f, message) ->
                    listener.progress(stage, from + span * f, message));
            steps.add(outcome.report());
            if (outcome.result() != null) {
                current = outcome.result().model();
            }
            if (cancelled.get()) {
                throw new CancellationException("compression cancelled after step " + (i + 1));
            }
        }

        listener.progress("save", 0.82, "");
        SavedModel saved = current.save(request.outputFolder().resolve("model.onnx"));
        CompressionReport.ModelFacts compressedFacts = facts(saved.modelFile(), current, saved.digest(), saved.totalBytes(),
                saved.dataFile().map(file -> file.getFileName().toString()), packagedBytes(steps));

        // Judged on what the plugins never saw: the judging part of the data, or generated inputs.
        Evaluator.Data data = new Evaluator.Data(judging.judge(), judging.labelled(), request.benchmark(),
                request.profile().batchSize(), InputGenerator.indexBounds(original));
        Measurement.Measured measured = measurement.measure(request.model(), saved.modelFile(), data,
                request.profile().executionProvider(), listener);
        CompressionReport.FidelityReport fidelity = measured.fidelity();
        Optional<CompressionReport.AccuracyReport> accuracy = measured.accuracy();
        Optional<CompressionReport.BenchmarkReport> benchmark = measured.benchmark();
        boolean allDone = steps.stream().allMatch(step -> step.status().equals("done"));
        String status = !allDone ? CompressionReport.PARTIAL
                : judging.verified() ? CompressionReport.COMPLETE : CompressionReport.UNVERIFIED;
        Optional<String> hint = !allDone ? Optional.of("a step failed and was left out: see its error")
                : judging.verified() ? Optional.empty() : Optional.of(GENERATED_HINT);
        CompressionReport report = new CompressionReport(CompressionReport.VERSION, status,
                request.profile().id(), originalFacts, compressedFacts, planned.stream().map(PlannedStep::entry).toList(),
                steps, gains(originalFacts, compressedFacts), fidelity, accuracy, benchmark, RuntimeInfo.current(),
                (System.nanoTime() - started) / 1_000_000, Optional.empty(), judging.report(Evaluator.GENERATED_SAMPLES),
                hint);
        Reports.writeReport(request.outputFolder().resolve(Reports.FILE), report);
        listener.progress("done", 1, "");
        return report;
    }

    /**
     * The original model written unchanged (as {@code model.onnx}, external data beside it) with a report
     * that says so: what a request ends with when no candidate may be published.
     */
    public CompressionReport keepOriginal(Path model, io.modelpress.spi.HardwareProfile profile, Path outputFolder,
            Judging judging) {
        long started = System.nanoTime();
        OnnxModel original = load(model);
        try {
            Files.createDirectories(outputFolder);
        } catch (IOException e) {
            throw new EngineException("cannot write to " + outputFolder + ": " + e.getMessage(), e);
        }
        SavedModel saved = original.save(outputFolder.resolve("model.onnx"));
        CompressionReport.ModelFacts originalFacts = facts(model, original, original.sourceDigest().orElseThrow(),
                original.sourceBytes(), Optional.empty(), Optional.empty());
        CompressionReport.ModelFacts keptFacts = facts(saved.modelFile(), original, saved.digest(), saved.totalBytes(),
                saved.dataFile().map(file -> file.getFileName().toString()), Optional.empty());
        CompressionReport.FidelityReport fidelity = new CompressionReport.FidelityReport("none", true, List.of(),
                Optional.of("not compared: the output is the original model, unchanged"));
        return new CompressionReport(CompressionReport.VERSION, CompressionReport.KEPT_ORIGINAL, profile.id(),
                originalFacts, keptFacts, List.of(), List.of(), gains(originalFacts, keptFacts), fidelity, Optional.empty(),
                Optional.empty(), RuntimeInfo.current(), (System.nanoTime() - started) / 1_000_000, Optional.empty(),
                judging.report(Evaluator.GENERATED_SAMPLES), Optional.empty());
    }

    /**
     * Loads a model with this engine's limits.
     *
     * @throws EngineException when it is no valid model
     */
    public OnnxModel load(Path file) {
        try {
            return OnnxModel.load(file, limits);
        } catch (ModelException e) {
            throw new EngineException(e.getMessage(), e);
        }
    }

    private record StepOutcome(CompressionReport.StepReport report, PluginResult result) {
    }

    /** Runs one step on {@code input}; {@code original} is where the chain started (its plugins' {@code original()}). */
    private StepOutcome runStep(int index, PlannedStep step, OnnxModel input, OnnxModel original,
            CompressionRequest request, Optional<io.modelpress.spi.CalibrationData> tuning,
            StepContext.ProgressReporter progress) {
        long started = System.nanoTime();
        long bytesBefore = input.serializedSize();
        Path temp = null;
        try {
            temp = createTempFolder("modelpress-step-");
            Path stepTemp = temp;
            StepRun run = new StepRun("step " + index + " " + step.plugin().id(), stepLimit, cancelled::get);
            StepContext context = new StepContext(temp, original, request.profile(), tuning, run::cancelled,
                    run.guard(progress));
            PluginResult result = run.call(() -> step.plugin().plugin().apply(input, step.options(), context),
                    () -> deleteQuietly(stepTemp));
            if (result == null || result.model() == null) {
                throw new PluginException("the plugin returned no model");
            }
            copyArtifacts(result, request.outputFolder());
            return new StepOutcome(stepReport(index, step, "done", Optional.empty(), result, started, bytesBefore,
                    result.model().serializedSize()), result);
        } catch (StepRun.OverTime e) {
            return failed(index, step, e.getMessage(), started, bytesBefore);
        } catch (CancellationException e) {
            cancelled.set(true);
            return failed(index, step, "cancelled", started, bytesBefore);
        } catch (PluginException | RuntimeException | LinkageError | StackOverflowError e) {
            // A plugin's failure is its own step's, never the host's: report it and go on. Out of
            // memory is not caught: the heap may be in any state, so the host process must end.
            return failed(index, step, describe(e), started, bytesBefore);
        } catch (IOException e) {
            throw new EngineException("cannot create a temp folder: " + e.getMessage(), e);
        } finally {
            if (temp != null) {
                deleteQuietly(temp);
            }
        }
    }

    private static StepOutcome failed(int index, PlannedStep step, String error, long started, long bytes) {
        return new StepOutcome(stepReport(index, step, "failed", Optional.of(error), null, started, bytes, bytes), null);
    }

    private static CompressionReport.StepReport stepReport(int index, PlannedStep step, String status,
            Optional<String> error, PluginResult result, long started, long bytesBefore, long bytesAfter) {
        return new CompressionReport.StepReport(index, step.plugin().id(), step.plugin().plugin().version(), status, error,
                result == null ? List.of() : result.changes(), result == null ? List.of() : result.skipped(),
                result == null ? Map.of() : result.figures(), (System.nanoTime() - started) / 1_000_000,
                bytesBefore, bytesAfter);
    }

    static String describe(Throwable error) {
        if (error instanceof PluginException || error instanceof ModelException) {
            return oneLine(error.getMessage());
        }
        String message = error.getMessage() == null ? "" : ": " + oneLine(error.getMessage());
        return "plugin failed with " + error.getClass().getSimpleName() + message;
    }

    private static String oneLine(String text) {
        return text == null ? "" : text.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    private static CompressionReport.ModelFacts facts(Path file, OnnxModel model, String digest, long bytes,
            Optional<String> dataFile, Optional<Long> packagedBytes) {
        WeightIndex weights = model.weights();
        // the summary's count, in which a byte holding two 4-bit weights is two parameters
        return new CompressionReport.ModelFacts(file.getFileName().toString(), dataFile, digest, bytes,
                model.summary().parameters(), weights.totalBytes(), packagedBytes);
    }

    /** The size a packaging step reported (figure {@code packaged-bytes}) of the final model, if the last step packaged it. */
    private static Optional<Long> packagedBytes(List<CompressionReport.StepReport> steps) {
        for (int i = steps.size() - 1; i >= 0; i--) {
            CompressionReport.StepReport step = steps.get(i);
            if (step.status().equals("done")) {
                Double packaged = step.figures().get(PACKAGED_BYTES);
                return packaged == null ? Optional.empty() : Optional.of(packaged.longValue());
            }
        }
        return Optional.empty();
    }

    private static CompressionReport.Gains gains(CompressionReport.ModelFacts original, CompressionReport.ModelFacts compressed) {
        return new CompressionReport.Gains(ratio(original.bytes(), compressed.bytes()),
                ratio(original.parameters(), compressed.parameters()), original.bytes() - compressed.bytes(),
                compressed.packagedBytes().map(packaged -> ratio(original.bytes(), packaged)));
    }

    private static double ratio(long before, long after) {
        return after == 0 ? 0 : Math.round(1000.0 * before / after) / 1000.0;
    }

    private static void copyArtifacts(PluginResult result, Path outputFolder) {
        result.artifacts().forEach((name, file) -> {
            if (name.contains("/") || name.contains("\\") || name.startsWith(".") || name.equals("model.onnx")
                    || name.equals(Reports.FILE) || name.equals(ReportHtml.FILE)) {
                throw new EngineException("plugin artifact name '" + name + "' is not a plain file name it may use");
            }
            try {
                Files.createDirectories(outputFolder);
                Files.copy(file, outputFolder.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new EngineException("cannot copy plugin artifact " + name + ": " + e.getMessage(), e);
            }
        });
    }

    private static String labels(java.util.Set<io.modelpress.spi.Precision> precisions) {
        return precisions.stream().map(io.modelpress.spi.Precision::label).sorted().reduce((a, b) -> a + ", " + b)
                .orElse("nothing");
    }

    private static void deleteQuietly(Path folder) {
        try (Stream<Path> files = Files.walk(folder)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException ignored) {
            // a temp folder left behind is harmless
        }
    }
}

package io.modelpress.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelpress.engine.ChainStep;
import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.CompressionReport;
import io.modelpress.engine.EngineException;
import io.modelpress.engine.ReportHtml;
import io.modelpress.engine.Reports;
import io.modelpress.engine.data.NpzData;
import io.modelpress.engine.job.BudgetOverrides;
import io.modelpress.engine.job.CompressionJob;
import io.modelpress.engine.job.FolderStorage;
import io.modelpress.engine.job.ObjectStorage;
import io.modelpress.engine.job.PlanChoice;
import io.modelpress.engine.plan.Budget;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.HardwareProfile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "compress", mixinStandardHelpOptions = true, versionProvider = ModelpressCli.Version.class, description = "Compresses a model for a profile with a chain of plugins; writes model.onnx and report.json.")
final class CompressCommand implements Callable<Integer> {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "MODEL", description = "an .onnx file (external data beside it)")
    Path model;

    @Option(names = "--profile", required = true, paramLabel = "ID", description = "the hardware profile (see 'modelpress profiles')")
    String profileId;

    @Option(names = "--plugin", paramLabel = "ID[:key=value,...]",
            description = "a step of the chain, in order; repeat for more steps (see 'modelpress plugins'). "
                    + "Without it the planner chooses the chain.")
    List<String> steps = List.of();

    @Option(names = "--max-accuracy-drop", paramLabel = "POINTS",
            description = "planner: accuracy (or agreement with the original) the result may lose, in percentage points, "
                    + "e.g. 1 for one point, 0.5 for half a point (default: the profile's)")
    Double maxAccuracyDrop;

    @Option(names = "--min-mean-cosine", paramLabel = "COSINE",
            description = "planner: floor on every output's mean cosine to the original's, 0 to 1 (default: the profile's, else 0.98)")
    Double minMeanCosine;

    @Option(names = "--min-worst-cosine", paramLabel = "COSINE",
            description = "planner: floor on every output's worst-sample cosine, 0 to 1 (default: the profile's, else 0.90)")
    Double minWorstCosine;

    @Option(names = "--max-size-mb", paramLabel = "MIB", description = "planner: largest model accepted, in MiB (default: the profile's)")
    Double maxSizeMb;

    @Option(names = "--max-latency-ms", paramLabel = "MS", description = "planner: median latency accepted (default: the profile's)")
    Double maxLatencyMs;

    @Option(names = "--time-limit", paramLabel = "DURATION", defaultValue = "10m",
            description = "planner: how long the search may take, e.g. 90s or 10m (default: ${DEFAULT-VALUE})")
    String timeLimit;

    @Option(names = "--step-time-limit", paramLabel = "DURATION",
            description = "longest one plugin step may run before it is cancelled and fails, e.g. 90s or 20m "
                    + "(default: $MODELPRESS_STEP_TIME_LIMIT, else 30m)")
    String stepTimeLimit;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "the output folder")
    Path out;

    @Mixin
    Sources sources;

    @Mixin
    DataOptions data;

    @Option(names = "--no-bench", description = "skip timing original and compressed side by side")
    boolean noBench;

    @Option(names = "--quiet", description = "no progress bar")
    boolean quiet;

    @Option(names = "--results", paramLabel = "DIR",
            description = "a folder that keeps results by request, laid out as the service keeps them beside a model"
                    + " in S3: the same request again (model, profile, chain or budget, data) is answered from it"
                    + " instead of compressed again, and a new result is kept in it")
    Path results;

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        HardwareProfile profile = sources.profiles().require(profileId);
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new EngineException("--out " + out + " is a file, not a folder");
        }
        CompressionEngine engine = new CompressionEngine(sources.plugins(), Environment.loadLimits(), Optional.empty(),
                Environment.stepLimit(stepTimeLimit));
        // The budget flags replace the profile's own budgets, as an event's budgets do in the service.
        HardwareProfile applied = overrides().applyTo(profile, false);
        PlanChoice choice;
        if (steps.isEmpty()) {
            choice = PlanChoice.planned(Budget.of(applied).withTimeLimit(Durations.parse("--time-limit", timeLimit)));
        } else {
            choice = PlanChoice.named(PlanChoice.COMMAND_LINE, steps.stream().map(ChainStep::parse).toList());
            engine.plan(choice.chain(), applied); // refuses bad chains before the model is read
        }
        Optional<FolderStorage> kept = Optional.ofNullable(results).map(FolderStorage::new);
        CompressionJob job = new CompressionJob(engine, kept.<ObjectStorage>map(storage -> storage)
                .orElse(ObjectStorage.NONE), noBench ? Optional.empty() : Optional.of(data.benchmarkSettings(applied)));
        OnnxModel loaded = OnnxModel.load(model, Environment.loadLimits());
        Map<String, Integer> ranks = NpzData.inputRanks(loaded);
        CompressionJob.Input input = new CompressionJob.Input(model, loaded.sourceDigest().orElseThrow(), "",
                data.calibrationSha256(), data.evaluationSha256());
        CompressionJob.Request request = job.identify(input, applied, choice);
        Optional<String> stored = job.lookup(request);
        if (stored.isPresent()) {
            return answerFromResults(stdout, kept.orElseThrow(), stored.get());
        }
        CompressionReport report;
        try (ProgressBar bar = ProgressBar.onStderr(quiet)) {
            // Data is cut into samples of the profile's batch size, as the service cuts it.
            report = job.compute(request, model, out, data.calibration(ranks, applied.batchSize()),
                    data.evaluation(ranks, applied.batchSize()), bar);
        }
        if (kept.isPresent()) {
            CompressionJob.Stored files = job.store(input, request, report, out, () -> { });
            job.index(request, Reports.toJson(new KeptResult(files.folder(), files.files(), files.reportName())));
            stdout.printf("kept in %s%n", kept.get().file(files.folder()));
        }
        report.planning().ifPresent(planning -> PlanningPrinter.print(stdout, planning));
        print(stdout, report);
        printVerdict(stdout, report);
        return switch (report.status()) {
            case CompressionReport.COMPLETE, CompressionReport.UNVERIFIED -> ModelpressCli.OK;
            case CompressionReport.KEPT_ORIGINAL -> ModelpressCli.KEPT_ORIGINAL;
            default -> ModelpressCli.FAILED;
        };
    }

    /** The budget flags as overrides of the profile's budgets; each checked, with the flag named. */
    private BudgetOverrides overrides() {
        if (maxAccuracyDrop != null && !(maxAccuracyDrop >= 0 && maxAccuracyDrop <= 100)) {
            throw new EngineException("--max-accuracy-drop is in percentage points from 0 to 100 (1 = one point), not "
                    + maxAccuracyDrop);
        }
        if (maxSizeMb != null && !(maxSizeMb > 0)) {
            throw new EngineException("--max-size-mb must be greater than 0, not " + maxSizeMb);
        }
        if (maxLatencyMs != null && !(maxLatencyMs > 0)) {
            throw new EngineException("--max-latency-ms must be greater than 0, not " + maxLatencyMs);
        }
        return new BudgetOverrides(
                maxSizeMb == null ? OptionalLong.empty() : OptionalLong.of((long) (maxSizeMb * 1024 * 1024)),
                OptionalLong.empty(),
                maxLatencyMs == null ? OptionalDouble.empty() : OptionalDouble.of(maxLatencyMs),
                maxAccuracyDrop == null ? OptionalDouble.empty() : OptionalDouble.of(maxAccuracyDrop),
                cosine("--min-mean-cosine", minMeanCosine), cosine("--min-worst-cosine", minWorstCosine));
    }

    private static OptionalDouble cosine(String flag, Double value) {
        if (value == null) {
            return OptionalDouble.empty();
        }
        if (!(value >= 0 && value <= 1)) {
            throw new EngineException(flag + " must be a cosine from 0 to 1, not " + value);
        }
        return OptionalDouble.of(value);
    }

    /** What the index of a results folder holds for a request: where its files are. */
    record KeptResult(String folder, List<String> files, String report) {
    }

    /** Copies a result kept before into the output folder under the names a fresh run writes. */
    private int answerFromResults(PrintWriter stdout, FolderStorage kept, String entry) throws IOException {
        KeptResult result = Reports.json().readValue(entry, KeptResult.class);
        Files.createDirectories(out);
        for (String name : result.files()) {
            String written = name.equals(result.report()) ? Reports.FILE
                    : name.startsWith("reports/") && name.endsWith(".html") ? ReportHtml.FILE : name;
            Files.copy(kept.file(result.folder() + name), out.resolve(written), StandardCopyOption.REPLACE_EXISTING);
        }
        JsonNode report = Reports.json().readTree(out.resolve(Reports.FILE).toFile());
        String status = report.path("status").asText();
        stdout.printf("answered from %s: this request was compressed before%n", kept.file(result.folder()));
        stdout.printf("status: %s%n", status);
        stdout.printf("wrote %s and %s%n", out(report.path("compressed").path("file").asText()), out(Reports.FILE));
        return switch (status) {
            case CompressionReport.COMPLETE, CompressionReport.UNVERIFIED -> ModelpressCli.OK;
            case CompressionReport.KEPT_ORIGINAL -> ModelpressCli.KEPT_ORIGINAL;
            default -> ModelpressCli.FAILED;
        };
    }

    /** The status in words, what judged it, and what would help when it is not complete. */
    static void printVerdict(PrintWriter out, CompressionReport report) {
        CompressionReport.JudgingReport judging = report.judging();
        out.printf("judged on: %s (%d judging samples, %d tuning; %s)%n", judging.judgedOn(), judging.judgingSamples(),
                judging.tuningSamples(), judging.split());
        String status = switch (report.status()) {
            case CompressionReport.UNVERIFIED -> "unverified: only generated inputs judged it";
            case CompressionReport.KEPT_ORIGINAL -> "kept-original: the output is the original model, unchanged";
            default -> report.status();
        };
        out.printf("status: %s%n", status);
        report.hint().ifPresent(hint -> out.printf("hint: %s%n", hint));
    }

    private void print(PrintWriter out, CompressionReport report) {
        for (CompressionReport.StepReport step : report.steps()) {
            out.printf("step %d %s %s: %s%s%n", step.index(), step.plugin(), step.version(), step.status(),
                    step.error().map(error -> " - " + error).orElse(""));
            step.changes().stream().limit(5).forEach(change -> out.printf("    %s%n", change));
            if (step.changes().size() > 5) {
                out.printf("    ... %d more changes in report.json%n", step.changes().size() - 5);
            }
            step.skipped().forEach(skipped -> out.printf("    left %s: %s%n", skipped.part(), skipped.reason()));
        }
        out.printf("size: %s -> %s (%.2fx), parameters %s -> %s%n", Format.bytes(report.original().bytes()),
                Format.bytes(report.compressed().bytes()), report.gains().sizeRatio(),
                Format.count(report.original().parameters()), Format.count(report.compressed().parameters()));
        CompressionReport.FidelityReport fidelity = report.fidelity();
        out.printf("runs in ONNX Runtime: %s%n", fidelity.runsInOnnxRuntime() ? "yes" : "NO");
        fidelity.unavailable().ifPresent(reason -> out.printf("fidelity: %s%n", reason));
        for (OutputFidelity output : fidelity.outputs()) {
            out.printf("fidelity %s: %s%n", output.output(), Format.fidelity(output));
        }
        if (!fidelity.outputs().isEmpty()) {
            out.printf("  measured on %s%n", fidelity.data());
        }
        report.accuracy().ifPresent(accuracy -> out.printf("accuracy (%s, %d examples): top-1 %.2f%% -> %.2f%%, top-5 %.2f%% -> %.2f%%%n",
                accuracy.output(), accuracy.examples(), 100 * accuracy.top1Before(), 100 * accuracy.top1After(),
                100 * accuracy.top5Before(), 100 * accuracy.top5After()));
        report.benchmark().ifPresent(bench -> {
            if (bench.unavailable().isPresent()) {
                out.printf("latency: %s%n", bench.unavailable().get());
                return;
            }
            out.printf("latency p50: %.2f ms -> %.2f ms (%.2fx), batch %d, %s threads%n",
                    bench.original().get().p50Millis(), bench.compressed().get().p50Millis(), bench.speedup(),
                    bench.original().get().batchSize(),
                    bench.settings().threads() == 0 ? "default" : Integer.toString(bench.settings().threads()));
            bench.note().ifPresent(note -> out.printf("         %s%n", note));
        });
        out.printf("wrote %s and %s%n", out(report.compressed().file()), out(Reports.FILE));
        out.printf("report for people: %s%n", out(ReportHtml.FILE));
    }

    private String out(String name) {
        return out.resolve(name).toString();
    }
}

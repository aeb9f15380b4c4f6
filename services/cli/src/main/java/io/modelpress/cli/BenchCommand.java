package io.modelpress.cli;

import io.modelpress.engine.CompressionReport;
import io.modelpress.engine.EngineException;
import io.modelpress.engine.Evaluator;
import io.modelpress.engine.data.InputCheck;
import io.modelpress.engine.data.NpzData;
import io.modelpress.inference.BenchmarkSettings;
import io.modelpress.inference.Benchmarker;
import io.modelpress.inference.InputGenerator;
import io.modelpress.engine.Judging;
import io.modelpress.inference.ModelBenchmark;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.inference.RunnerOptions;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.TensorData;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = ModelpressCli.Version.class,
        description = {"Times a model and any others beside it (a compressed copy, peers) in ONNX Runtime, in the same"
                + " rounds, and compares their outputs with the first.",
                "Each round runs every model once, in an order that rotates each round, on input tensors made before"
                + " timing; warm-up rounds are discarded, and rounds go on until every median is stable. Session"
                + " memory is measured for each model alone in a fresh process."})
final class BenchCommand implements Callable<Integer> {

    /** Symbolic dims other than the batch of generated inputs, as compress generates them. */
    private static final int DEFAULT_SEQUENCE = 32;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "the original .onnx file")
    Path model;

    @Parameters(index = "1..*", arity = "0..*", paramLabel = "OTHER",
            description = "models to time beside it: one is labelled 'compressed', several by their file names")
    List<Path> others = new ArrayList<>();

    @Option(names = "--peer", paramLabel = "LABEL=FILE", description = "another model to time in the same rounds,"
            + " under this label (repeatable)")
    Map<String, Path> peers = new LinkedHashMap<>();

    @Option(names = "--profile", paramLabel = "ID", description = "run at this profile's batch size and threads")
    String profileId;

    @Option(names = "--batch", paramLabel = "N", description = "rows per run of generated inputs (default: the"
            + " profile's batch size, else 1)")
    Integer batch;

    @Option(names = "--sequence", paramLabel = "N", description = "length of the other symbolic axes of generated"
            + " inputs, such as the tokens of a token-id input (default: " + DEFAULT_SEQUENCE + ")")
    Integer sequence;

    @Option(names = "--csv", paramLabel = "FILE", description = "also write the figures, one row per model, to this"
            + " CSV file")
    Path csv;

    @Mixin
    Sources sources;

    @Mixin
    DataOptions data;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Optional<HardwareProfile> profile = Optional.ofNullable(profileId).map(id -> sources.profiles().require(id));
        int rows = batch != null ? positive("--batch", batch) : profile.map(HardwareProfile::batchSize).orElse(1);
        int length = sequence != null ? positive("--sequence", sequence) : DEFAULT_SEQUENCE;
        if (data.calibration != null && (batch != null || sequence != null)) {
            throw new EngineException("--batch and --sequence shape generated inputs; with --calibration the first"
                    + " sample of the data is timed as it is");
        }
        BenchmarkSettings settings = data.benchmarkSettings(profile.map(HardwareProfile::threads).orElse(0));
        Map<String, Path> models = models();
        OnnxModel original = OnnxModel.load(model, Environment.loadLimits());
        Optional<CalibrationData> calibration = data.calibration(NpzData.inputRanks(original));
        Optional<CalibrationData> evaluation = data.evaluation(NpzData.inputRanks(original));
        calibration.ifPresent(set -> InputCheck.check(original, set, "calibration data"));
        evaluation.ifPresent(set -> InputCheck.check(original, set, "evaluation data"));

        Map<String, TensorData> inputs = firstBatch(original, calibration, rows, length);
        List<ModelBenchmark> results;
        try (ProgressBar bar = ProgressBar.onStderr(false)) {
            bar.progress("benchmark", 0.1, models.size() + " model(s), at least " + settings.minRounds() + " rounds");
            results = Benchmarker.compare(models, inputs, settings);
        }
        table(out, models, results, settings);
        if (csv != null) {
            writeCsv(csv, models, results, inputs, settings);
        }
        // The inputs compress judges on, for the same model and data: the same generated inputs
        // (seed, lengths, index bounds) or, with calibration data alone, the same held-out part.
        Judging judging = Judging.of(calibration, evaluation);
        Evaluator.Data measured = new Evaluator.Data(judging.judge(), judging.labelled(), Optional.empty(),
                profile.map(HardwareProfile::batchSize).orElse(1), InputGenerator.indexBounds(original));
        List<String> labels = new ArrayList<>(models.keySet());
        for (int i = 1; i < labels.size(); i++) {
            if (labels.size() > 2) {
                out.printf("%s against %s:%n", labels.get(i), labels.get(0));
            }
            Path other = models.get(labels.get(i));
            printFidelity(out, Evaluator.fidelity(model, other, measured));
            Evaluator.accuracy(model, other, measured).ifPresent(accuracy -> out.printf(
                    "accuracy (%d examples): top-1 %.2f%% -> %.2f%%, top-5 %.2f%% -> %.2f%%%n", accuracy.examples(),
                    100 * accuracy.top1Before(), 100 * accuracy.top1After(), 100 * accuracy.top5Before(),
                    100 * accuracy.top5After()));
        }
        return ModelpressCli.OK;
    }

    /** The original first, then the others: one alone is "compressed", several go by file name; then the peers. */
    private Map<String, Path> models() {
        Map<String, Path> models = new LinkedHashMap<>();
        models.put("original", existing(model));
        for (Path other : others) {
            String label = others.size() == 1 ? "compressed" : other.getFileName().toString().replaceFirst("\\.onnx$", "");
            add(models, label, other);
        }
        peers.forEach((label, file) -> add(models, label, file));
        return models;
    }

    private static void add(Map<String, Path> models, String label, Path file) {
        if (label.isBlank() || models.putIfAbsent(label, existing(file)) != null) {
            throw new EngineException("two models are labelled '" + label + "'; give each --peer its own label");
        }
    }

    private static int positive(String option, int value) {
        if (value < 1) {
            throw new EngineException(option + " must be at least 1, not " + value);
        }
        return value;
    }

    /** The first calibration sample, else generated inputs; token ids drawn over the vocabulary they index. */
    private Map<String, TensorData> firstBatch(OnnxModel original, Optional<CalibrationData> calibration, int rows,
            int length) {
        if (calibration.isPresent()) {
            return calibration.get().sample(0);
        }
        try (OrtRunner runner = OrtRunner.open(model, RunnerOptions.DEFAULT)) {
            return new InputGenerator(rows, length).withIndexBounds(InputGenerator.indexBounds(original))
                    .generate(runner.inputSpecs(), 1, 1).get(0);
        }
    }

    private static Path existing(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new EngineException("model file not found: " + file);
        }
        return file;
    }

    private static void table(PrintWriter out, Map<String, Path> models, List<ModelBenchmark> results,
            BenchmarkSettings settings) {
        List<String> sizes = new ArrayList<>();
        models.values().forEach(file -> sizes.add(Format.bytes(OnnxModel.load(file, Environment.loadLimits()).sourceBytes())));
        out.printf("%-18s", "");
        results.forEach(result -> out.printf("%18s", result.label()));
        out.println();
        row(out, "size", sizes);
        row(out, "load", results.stream().map(r -> String.format(Locale.ROOT, "%.0f ms", r.loadMillis())).toList());
        row(out, "session peak", results.stream().map(r -> r.sessionPeakBytes().map(Format::bytes).orElse("n/a")).toList());
        row(out, "latency p10", millis(results, ModelBenchmark::p10Millis));
        row(out, "latency median", millis(results, ModelBenchmark::p50Millis));
        row(out, "latency p90", millis(results, ModelBenchmark::p90Millis));
        row(out, "throughput", results.stream().map(r -> String.format(Locale.ROOT, "%.1f /s", r.throughputPerSecond()))
                .toList());
        if (results.size() > 1) {
            double base = results.get(0).p50Millis();
            row(out, "speedup", results.stream().map(r -> r == results.get(0) ? ""
                    : String.format(Locale.ROOT, "%.2fx", base / r.p50Millis())).toList());
        }
        row(out, "rounds", results.stream().map(r -> r.rounds() + (r.stable() ? "" : " (moving)")).toList());
        out.printf(Locale.ROOT, "batch %d; one run of each model per round, order rotating, after %d warm-up rounds;"
                + " stopped when every median was stable within %.0f%% (or at %d rounds or %d s)%n",
                results.get(0).batchSize(), settings.warmup(), 100 * settings.stableWithin(), settings.maxRounds(),
                settings.maxSeconds());
    }

    private static List<String> millis(List<ModelBenchmark> results, ToDoubleFunction<ModelBenchmark> figure) {
        return results.stream().map(r -> String.format(Locale.ROOT, "%.2f ms", figure.applyAsDouble(r))).toList();
    }

    private static void row(PrintWriter out, String label, List<String> values) {
        out.printf("%-18s", label);
        values.forEach(value -> out.printf("%18s", value));
        out.println();
    }

    /** One row per model: what a script turns into a table, in machine-readable units (ms, bytes). */
    private static void writeCsv(Path file, Map<String, Path> models, List<ModelBenchmark> results,
            Map<String, TensorData> inputs, BenchmarkSettings settings) {
        String shapes = inputs.entrySet().stream().map(e -> e.getKey() + Arrays.toString(e.getValue().shape())
                .replace(", ", "x")).collect(Collectors.joining(" "));
        StringBuilder text = new StringBuilder("label,file,inputs,batch,threads,rounds,stable,p10_ms,median_ms,p90_ms,"
                + "p99_ms,mean_ms,throughput_per_s,speedup,load_ms,session_peak_bytes\n");
        double base = results.get(0).p50Millis();
        for (ModelBenchmark r : results) {
            text.append(String.format(Locale.ROOT, "%s,%s,%s,%d,%d,%d,%b,%.4f,%.4f,%.4f,%.4f,%.4f,%.2f,%.4f,%.1f,%s%n",
                    r.label(), models.get(r.label()).getFileName(), shapes, r.batchSize(), settings.threads(),
                    r.rounds(), r.stable(), r.p10Millis(), r.p50Millis(), r.p90Millis(), r.p99Millis(), r.meanMillis(),
                    r.throughputPerSecond(), base / r.p50Millis(), r.loadMillis(),
                    r.sessionPeakBytes().map(String::valueOf).orElse("")));
        }
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new EngineException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static void printFidelity(PrintWriter out, CompressionReport.FidelityReport fidelity) {
        fidelity.unavailable().ifPresent(reason -> out.printf("fidelity: %s%n", reason));
        for (OutputFidelity output : fidelity.outputs()) {
            out.printf("fidelity %s: %s%n", output.output(), Format.fidelity(output));
        }
        if (!fidelity.outputs().isEmpty()) {
            out.printf("  measured on %s%n", fidelity.data());
        }
    }
}

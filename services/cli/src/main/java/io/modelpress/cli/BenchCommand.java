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
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = ModelpressCli.Version.class, description = "Times a model (and a compressed copy beside it) in ONNX Runtime and compares their outputs.")
final class BenchCommand implements Callable<Integer> {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "the original .onnx file")
    Path model;

    @Parameters(index = "1", arity = "0..1", paramLabel = "COMPRESSED", description = "a compressed .onnx file to compare with")
    Path compressed;

    @Option(names = "--profile", paramLabel = "ID", description = "run at this profile's batch size and threads")
    String profileId;

    @Mixin
    Sources sources;

    @Mixin
    DataOptions data;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Optional<HardwareProfile> profile = Optional.ofNullable(profileId).map(id -> sources.profiles().require(id));
        int batch = profile.map(HardwareProfile::batchSize).orElse(1);
        BenchmarkSettings settings = new BenchmarkSettings(profile.map(HardwareProfile::threads).orElse(0),
                Math.max(3, data.iterations / 5), data.iterations);
        Map<String, Path> models = new LinkedHashMap<>();
        models.put("original", existing(model));
        if (compressed != null) {
            models.put("compressed", existing(compressed));
        }
        OnnxModel original = OnnxModel.load(model, Environment.loadLimits());
        Optional<CalibrationData> calibration = data.calibration(NpzData.inputRanks(original));
        Optional<CalibrationData> evaluation = data.evaluation(NpzData.inputRanks(original));
        calibration.ifPresent(set -> InputCheck.check(original, set, "calibration data"));
        evaluation.ifPresent(set -> InputCheck.check(original, set, "evaluation data"));

        List<ModelBenchmark> results;
        try (ProgressBar bar = ProgressBar.onStderr(false)) {
            bar.progress("benchmark", 0.1, models.size() + " model(s), " + data.iterations + " runs each");
            results = Benchmarker.compare(models, firstBatch(calibration, batch), settings);
        }
        table(out, models, results);
        if (compressed != null) {
            // The inputs compress judges on, for the same model and data: the same generated inputs
            // (seed, lengths, index bounds) or, with calibration data alone, the same held-out part.
            Judging judging = Judging.of(calibration, evaluation);
            Evaluator.Data measured = new Evaluator.Data(judging.judge(), judging.labelled(), Optional.empty(), batch,
                    InputGenerator.indexBounds(original));
            printFidelity(out, Evaluator.fidelity(model, compressed, measured));
            Evaluator.accuracy(model, compressed, measured).ifPresent(accuracy -> out.printf(
                    "accuracy (%d examples): top-1 %.2f%% -> %.2f%%, top-5 %.2f%% -> %.2f%%%n", accuracy.examples(),
                    100 * accuracy.top1Before(), 100 * accuracy.top1After(), 100 * accuracy.top5Before(),
                    100 * accuracy.top5After()));
        }
        return ModelpressCli.OK;
    }

    private Map<String, TensorData> firstBatch(Optional<CalibrationData> calibration, int batch) {
        if (calibration.isPresent()) {
            return calibration.get().sample(0);
        }
        try (OrtRunner runner = OrtRunner.open(model, RunnerOptions.DEFAULT)) {
            return new InputGenerator(batch, 32).generate(runner.inputSpecs(), 1, 1).get(0);
        }
    }

    private static Path existing(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new EngineException("model file not found: " + file);
        }
        return file;
    }

    private static void table(PrintWriter out, Map<String, Path> models, List<ModelBenchmark> results) {
        List<String> sizes = new ArrayList<>();
        models.values().forEach(file -> sizes.add(Format.bytes(OnnxModel.load(file, Environment.loadLimits()).sourceBytes())));
        out.printf("%-18s", "");
        results.forEach(result -> out.printf("%18s", result.label()));
        out.println();
        row(out, "size", sizes);
        row(out, "load", results.stream().map(r -> String.format("%.0f ms", r.loadMillis())).toList());
        row(out, "session memory", results.stream().map(r -> "+" + Format.bytes(r.sessionMemoryBytes())).toList());
        row(out, "latency p50", results.stream().map(r -> String.format("%.2f ms", r.p50Millis())).toList());
        row(out, "latency p90", results.stream().map(r -> String.format("%.2f ms", r.p90Millis())).toList());
        row(out, "latency p99", results.stream().map(r -> String.format("%.2f ms", r.p99Millis())).toList());
        row(out, "throughput", results.stream().map(r -> String.format("%.1f /s", r.throughputPerSecond())).toList());
        if (results.size() == 2) {
            row(out, "speedup", List.of("", String.format("%.2fx", results.get(0).p50Millis() / results.get(1).p50Millis())));
        }
        out.printf("batch %d, %d timed runs each after warm-up, runs interleaved%n", results.get(0).batchSize(),
                results.get(0).iterations());
    }

    private static void row(PrintWriter out, String label, List<String> values) {
        out.printf("%-18s", label);
        values.forEach(value -> out.printf("%18s", value));
        out.println();
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

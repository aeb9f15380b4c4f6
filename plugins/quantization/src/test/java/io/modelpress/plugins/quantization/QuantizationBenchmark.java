package io.modelpress.plugins.quantization;

import io.modelpress.inference.BenchmarkSettings;
import io.modelpress.inference.Benchmarker;
import io.modelpress.inference.ModelBenchmark;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.SaveOptions;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.QuantizedFormat;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.RealModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Figures for bench/quantization.md, run by {@code bench/quantization.sh [real|minilm|all] [FILTER]}.
 */
public final class QuantizationBenchmark {

    private QuantizationBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        String what = args.length > 0 ? args[0] : "all";
        if (what.equals("real") || what.equals("all")) {
            realModels(args.length > 1 ? args[1] : "");
        }
        if (what.equals("minilm") || what.equals("all")) {
            MiniLmBenchmark.run(args.length > 1 ? args[1] : "");
        }
    }

    record Config(String label, CompressionPlugin plugin, Map<String, String> options, QuantizedFormat format) {
    }

    static void realModels(String only) throws Exception {
        Path folder = Files.createTempDirectory("quant-bench");
        List<Config> configs = List.of(
                new Config("int8-dynamic", new Int8DynamicPlugin(), Map.of(), QuantizedFormat.OPERATOR),
                new Config("int8-dynamic as tested", new Int8DynamicPlugin(), null, QuantizedFormat.OPERATOR),
                new Config("int8-dynamic smooth 0.7", new Int8DynamicPlugin(), Map.of("smooth", "0.7"), QuantizedFormat.OPERATOR),
                new Config("int8-dynamic qdq", new Int8DynamicPlugin(), Map.of(), QuantizedFormat.QDQ),
                new Config("int8-static percentile", new Int8StaticPlugin(), Map.of(), QuantizedFormat.QDQ),
                new Config("int8-static minmax", new Int8StaticPlugin(), Map.of("calibration", "minmax"), QuantizedFormat.QDQ),
                new Config("int4-block", new Int4BlockPlugin(), Map.of(), QuantizedFormat.OPERATOR));
        System.out.println("| model | plugin | size fp32 → q (bytes) | ratio | worst output cosine (mean / min) | max abs | top-1 | fp32 ms | q ms | fp32/q time |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        for (RealModels real : RealModels.all()) {
            if (!only.isEmpty() && !real.name().contains(only)) {
                continue;
            }
            for (Config config : configs) {
                try {
                    long start = System.nanoTime();
                    Map<String, String> options = config.options() == null ? RealModelRun.int8Options(real) : config.options();
                    if (config.options() == null && options.isEmpty()) {
                        continue; // the same as plain int8-dynamic
                    }
                    RealModelRun run = RealModelRun.of(real, folder, config.plugin(), options, config.format());
                    double seconds = (System.nanoTime() - start) / 1e9;
                    OutputFidelity f = run.worst();
                    double[] speed = speed(run.original(), run.result().model(), Inputs.samples(real, 1, 5).get(0));
                    System.out.printf(Locale.ROOT, "| %s | %s | %d → %d | %.2fx | %.5f / %.5f | %.4g | %s | %.3f | %.3f | %.2f |%n",
                            real, config.label(), run.original().serializedSize(), run.result().model().serializedSize(),
                            run.sizeRatio(), f.meanCosine(), f.minCosine(), f.maxAbsError(),
                            f.top1Agreement().isPresent() ? String.format(Locale.ROOT, "%.3f", f.top1Agreement().getAsDouble()) : "-",
                            speed[0], speed[1], speed[0] / speed[1]);
                    System.err.printf(Locale.ROOT, "  %s %s: %.1f s, %s%n", real, config.label(), seconds, run.result().figures());
                } catch (Exception e) {
                    System.out.printf("| %s | %s | FAILED: %s |%n", real, config.label(), e);
                }
            }
        }
    }

    /** Median milliseconds of fp32 and quantized, timed in the same rounds (see {@link #time}). */
    static double[] speed(OnnxModel original, OnnxModel quantized, Map<String, TensorData> input) throws IOException {
        Map<String, OnnxModel> models = new LinkedHashMap<>();
        models.put("fp32", original);
        models.put("quantized", quantized);
        List<ModelBenchmark> timed = time(models, input, BenchmarkSettings.of(0, 5, 30).withoutMemory());
        return new double[] {timed.get(0).p50Millis(), timed.get(1).p50Millis()};
    }

    /**
     * The models timed side by side on raw ONNX Runtime sessions, as the service times them: saved to files first,
     * inputs made before the timed region, one run of each per round in a rotating order, rounds until the medians
     * are stable.
     */
    static List<ModelBenchmark> time(Map<String, OnnxModel> models, Map<String, TensorData> input,
            BenchmarkSettings settings) throws IOException {
        Path folder = Files.createTempDirectory("quant-timing");
        try {
            Map<String, Path> files = new LinkedHashMap<>();
            for (Map.Entry<String, OnnxModel> model : models.entrySet()) {
                Path file = folder.resolve(files.size() + ".onnx");
                model.getValue().save(file, SaveOptions.inline());
                files.put(model.getKey(), file);
            }
            return Benchmarker.compare(files, input, settings);
        } finally {
            try (Stream<Path> all = Files.list(folder)) {
                for (Path file : all.toList()) {
                    Files.deleteIfExists(file);
                }
            }
            Files.deleteIfExists(folder);
        }
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}

package io.modelpress.plugins.fp16;

import io.modelpress.inference.BenchmarkSettings;
import io.modelpress.inference.Benchmarker;
import io.modelpress.inference.Fidelity;
import io.modelpress.inference.ModelBenchmark;
import io.modelpress.inference.OrtEnvironments;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.SaveOptions;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.BenchSetup;
import io.modelpress.testkit.PluginTestContext;
import io.modelpress.testkit.RealInputs;
import io.modelpress.testkit.RealModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.SplittableRandom;

/**
 * Size, fidelity and CPU latency of the {@code fp16} and {@code graph-optimize} outputs on the six
 * real models of the test kit and on MiniLM. Not a test: {@code bench/fp16.sh} runs it and the
 * figures go to bench/fp16.md. The graph-optimize plugin is found through the service loader, so
 * this module needs no compile-time dependency on it; the script puts both modules on the class path.
 *
 * <p>Each chain gets the fidelity samples as calibration data (fp16 measures activation ranges on
 * them). Latency: the original and every output side by side in one process, batch 1 (MiniLM:
 * sequence 128), through DJL with ONNX Runtime's full CPU optimisation. Arguments: the MiniLM file
 * (skipped when absent), latency iterations, and an optional filter on model names.
 */
public final class Fp16Benchmark {

    /** A step of the chains measured here: a plugin id and its options. */
    private record Step(String plugin, Map<String, String> options) {
        @Override
        public String toString() {
            return options.isEmpty() ? plugin : plugin + ":" + options.toString().replaceAll("[{} ]", "");
        }
    }

    private static final List<List<Step>> CHAINS = List.of(
            List.of(new Step("fp16", Map.of())),
            List.of(new Step("graph-optimize", Map.of())),
            List.of(new Step("graph-optimize", Map.of()), new Step("fp16", Map.of())));

    private Fp16Benchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path miniLm = BenchSetup.model(args);
        int iterations = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        String filter = args.length > 2 ? args[2] : "";
        OrtEnvironments.shared();
        BenchSetup.printMachine();
        Map<String, CompressionPlugin> plugins = new LinkedHashMap<>();
        ServiceLoader.load(CompressionPlugin.class).forEach(plugin -> plugins.put(plugin.id(), plugin));
        Path work = Files.createTempDirectory("fp16-bench");
        BenchmarkSettings settings = BenchmarkSettings.of(0, 5, iterations).withoutMemory();

        System.out.println("\n| model | chain | bytes before → after | ratio | plugin ms | output | cosine mean / min"
                + " | max abs error | top-1 agreement | p50 ms fp32 → result | latency ratio |");
        System.out.println("| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |");
        for (RealModels real : RealModels.values()) {
            if (real.name().toLowerCase(Locale.ROOT).contains(filter.toLowerCase(Locale.ROOT))) {
                OnnxModel model = OnnxModel.load(real.copyTo(work.resolve("models")));
                List<Map<String, TensorData>> samples = List.of(RealInputs.of(real, 1), RealInputs.of(real, 2),
                        RealInputs.of(real, 3), RealInputs.of(real, 4));
                measure(real.name().toLowerCase(Locale.ROOT), model, samples, samples.get(0), plugins, work, settings);
            }
        }
        if (Files.exists(miniLm) && "minilm".contains(filter.toLowerCase(Locale.ROOT))) {
            OnnxModel model = OnnxModel.load(miniLm);
            List<Map<String, TensorData>> samples = new ArrayList<>();
            for (int s = 0; s < 8; s++) {
                samples.add(sentence(new SplittableRandom(100 + s), 32));
            }
            measure("minilm-l6", model, samples, sentence(new SplittableRandom(7), 128), plugins, work, settings);
        } else if (!Files.exists(miniLm)) {
            System.out.println("\n" + miniLm + " not found: MiniLM skipped (bench/models/fetch-models.sh fetches it)");
        }
    }

    private static void measure(String name, OnnxModel model, List<Map<String, TensorData>> samples,
            Map<String, TensorData> timed, Map<String, CompressionPlugin> plugins, Path work, BenchmarkSettings settings)
            throws Exception {
        Map<String, Path> files = new LinkedHashMap<>();
        files.put("fp32", save(model, work.resolve(name + "/fp32.onnx")));
        List<String[]> rows = new ArrayList<>(); // chain label, the row up to the latency columns
        for (List<Step> chain : CHAINS) {
            String label = String.join(" → ", chain.stream().map(Step::toString).toList());
            long started = System.nanoTime();
            OnnxModel result;
            try {
                result = run(chain, model, plugins, PluginTestContext.in(work).withCalibration(CalibrationData.of(samples)));
            } catch (PluginException e) {
                rows.add(new String[] {"", String.format(Locale.ROOT, "| %s | %s | refused: %s | | | | | | |",
                        name, label, e.getMessage())});
                continue;
            }
            double millis = (System.nanoTime() - started) / 1e6;
            files.put(label, save(result, work.resolve(name + "/" + files.size() + ".onnx")));
            try (OrtRunner before = OrtRunner.open(model); OrtRunner after = OrtRunner.open(result)) {
                for (OutputFidelity output : Fidelity.compare(before, after, samples)) {
                    rows.add(new String[] {label, String.format(Locale.ROOT,
                            "| %s | %s | %,d → %,d | %.2fx | %.0f | %s | %.6f / %.6f | %.3g | %s |", name, label,
                            model.serializedSize(), result.serializedSize(),
                            (double) model.serializedSize() / result.serializedSize(), millis, output.output(),
                            output.meanCosine(), output.minCosine(), output.maxAbsError(),
                            output.top1Agreement().isPresent()
                                    ? String.format(Locale.ROOT, "%.3f", output.top1Agreement().getAsDouble()) : "n/a")});
                }
            }
        }
        List<ModelBenchmark> timings = Benchmarker.compare(files, timed, settings);
        List<String> labels = new ArrayList<>(files.keySet());
        double base = timings.get(0).p50Millis();
        for (String[] row : rows) {
            int index = labels.indexOf(row[0]);
            System.out.println(index <= 0 ? row[1] : row[1] + String.format(Locale.ROOT, " %.2f → %.2f | %.2fx |",
                    base, timings.get(index).p50Millis(), timings.get(index).p50Millis() / base));
        }
    }

    private static OnnxModel run(List<Step> chain, OnnxModel model, Map<String, CompressionPlugin> plugins,
            PluginTestContext context) throws PluginException {
        OnnxModel result = model;
        for (Step step : chain) {
            CompressionPlugin plugin = plugins.get(step.plugin());
            if (plugin == null) {
                throw new PluginException("plugin '" + step.plugin() + "' is not on the class path");
            }
            PluginResult out = plugin.apply(result, PluginOptions.resolve(plugin.options(), step.options()), context);
            out.changes().stream().filter(change -> change.startsWith("measured ") || change.startsWith("stored "))
                    .forEach(change -> System.err.println(step.plugin() + ": " + change));
            result = out.model();
        }
        return result;
    }

    private static Path save(OnnxModel model, Path file) throws Exception {
        Files.createDirectories(file.getParent());
        model.save(file, model.serializedSize() > SaveOptions.INLINE_LIMIT ? SaveOptions.external(file.getFileName() + ".data")
                : SaveOptions.inline());
        return file;
    }

    /** One sentence's worth of random token ids (1000..29999) between [CLS] and [SEP], all attended. */
    private static Map<String, TensorData> sentence(SplittableRandom random, int length) {
        long[] ids = new long[length];
        long[] mask = new long[length];
        for (int i = 0; i < length; i++) {
            ids[i] = i == 0 ? 101 : i == length - 1 ? 102 : 1000 + random.nextInt(29000);
            mask[i] = 1;
        }
        long[] shape = {1, length};
        return Map.of("input_ids", TensorData.ofLongs(shape, ids), "attention_mask", TensorData.ofLongs(shape, mask),
                "token_type_ids", TensorData.ofLongs(shape, new long[length]));
    }
}

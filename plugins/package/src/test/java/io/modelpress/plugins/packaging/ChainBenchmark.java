package io.modelpress.plugins.packaging;

import io.modelpress.inference.Fidelity;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.model.OnnxModel;
import io.modelpress.plugins.pruning.MagnitudePruningPlugin;
import io.modelpress.plugins.pruning.StructuredPruningPlugin;
import io.modelpress.plugins.quantization.Int8DynamicPlugin;
import io.modelpress.plugins.sharing.WeightSharingPlugin;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.Mnist;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.PluginTestContext;
import io.modelpress.testkit.RealModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Deep Compression step by step: magnitude pruning, weight sharing, int8 and packaging, each on the previous
 * step's output, on the MNIST classifier (top-1 accuracy on the 2,000 held-out digits) and on two real CNNs,
 * the PaddleOCR angle classifier and text detector (fidelity against the original on strips of MNIST digits,
 * upright and turned, as text-line-like inputs). For each, a sweep of sparsity and bits (on MNIST against the
 * 10x / 1 point goal), other chains for comparison, and pruning alone. Every model is measured after packaging with the package plugin's
 * defaults. Prints Markdown. Not a test: bench/chain.sh runs it.
 */
public final class ChainBenchmark {

    private static final List<String> SPARSITIES = List.of("0.5", "0.6", "0.7", "0.8", "0.9");
    private static final List<String> BITS = List.of("3", "4", "5", "6");

    private final Path temp;
    private final PackagePlugin packager = new PackagePlugin();
    private int runs;
    /** What plugins that measure on data see (structured pruning with rank=activations): never the evaluation data. */
    private CalibrationData calibration;

    private ChainBenchmark(Path temp) {
        this.temp = temp;
    }

    public static void main(String[] args) throws Exception {
        Path temp = Files.createTempDirectory("chain-bench-");
        System.out.println("load average at start: " + Files.readString(Path.of("/proc/loadavg")).strip());
        ChainBenchmark bench = new ChainBenchmark(temp);
        bench.mnist();
        bench.realCnns();
        System.out.println("\nload average at end: " + Files.readString(Path.of("/proc/loadavg")).strip());
    }

    /** A plugin with its options. */
    private record Step(CompressionPlugin plugin, Map<String, String> options) {
        String label() {
            return plugin.id() + (options.isEmpty() ? "" : " " + options.entrySet().stream()
                    .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(",")));
        }
    }

    /** A model's measured row: elements of all stored tensors, sizes and quality. */
    private record Measured(long storedElements, long onnxBytes, long packedBytes, String quality) {
    }

    private static List<Step> deepCompression(String sparsity, String bits) {
        return List.of(new Step(new MagnitudePruningPlugin(), Map.of("sparsity", sparsity)),
                new Step(new WeightSharingPlugin(), Map.of("bits", bits)),
                new Step(new Int8DynamicPlugin(), Map.of()),
                new Step(new PackagePlugin(), Map.of()));
    }

    private void mnist() throws Exception {
        OnnxModel model = MnistModels.mlp();
        calibration = MnistModels.calibration("pixels", 0, 1600, 100);
        double before = accuracy(model);
        Function<OnnxModel, String> quality = m -> {
            double after = accuracy(m);
            return String.format(Locale.ROOT, "%.2f%% (%+.2f)", 100 * after, 100 * (after - before));
        };
        System.out.println("\n### MNIST 784-256-128-10 MLP: the chain step by step (sparsity 0.6, 4 bits)\n");
        System.out.println("Top-1 on the 2,000 held-out digits [8000, 10000), change in points in brackets.\n");
        stepByStep(model, deepCompression("0.6", "4"), quality, "top-1 (points)");

        System.out.println("\n### MNIST: sparsity x bits, the whole chain (pruning, sharing, int8, package)\n");
        System.out.println("Goal: packaged at least 10x smaller than the fp32 ONNX file, at most 1 point of top-1 lost.\n");
        System.out.println("| sparsity | bits | packaged bytes | fp32 / packaged | top-1 | change (points) | goal met |");
        System.out.println("|---:|---:|---:|---:|---:|---:|---|");
        sweep(model, List.of("global"), SPARSITIES, BITS, (scope, sparsity, bits, end, packed) -> {
            double after = accuracy(end);
            double ratio = (double) model.serializedSize() / packed;
            boolean met = ratio >= 10 && after >= before - 0.01;
            System.out.printf(Locale.ROOT, "| %s | %s | %,d | %.1fx | %.2f%% | %+.2f | %s |%n", sparsity, bits, packed,
                    ratio, 100 * after, 100 * (after - before), met ? "yes" : "no");
        });

        System.out.println("\n### MNIST: other chains and pruning alone, each ending in package\n");
        Map<String, List<Step>> chains = new LinkedHashMap<>();
        chains.put("package alone", List.of());
        chains.put("int8-dynamic", List.of(new Step(new Int8DynamicPlugin(), Map.of())));
        chains.put("weight-sharing bits=4", List.of(new Step(new WeightSharingPlugin(), Map.of("bits", "4"))));
        chains.put("magnitude-pruning sparsity=0.6, int8-dynamic", List.of(
                new Step(new MagnitudePruningPlugin(), Map.of("sparsity", "0.6")), new Step(new Int8DynamicPlugin(), Map.of())));
        for (String sparsity : List.of("0.5", "0.8", "0.9")) {
            for (String scope : List.of("global", "per-layer", "lamp")) {
                chains.put("magnitude-pruning sparsity=" + sparsity + ", scope=" + scope, List.of(
                        new Step(new MagnitudePruningPlugin(), Map.of("sparsity", sparsity, "scope", scope))));
            }
        }
        for (String ratio : List.of("0.3", "0.5")) {
            chains.put("structured-pruning ratio=" + ratio, List.of(
                    new Step(new StructuredPruningPlugin(), Map.of("ratio", ratio))));
            chains.put("structured-pruning ratio=" + ratio + ", rank=activations", List.of(
                    new Step(new StructuredPruningPlugin(), Map.of("ratio", ratio, "rank", "activations"))));
        }
        chains.put("structured-pruning ratio=0.3, magnitude-pruning sparsity=0.6, weight-sharing bits=4", List.of(
                new Step(new StructuredPruningPlugin(), Map.of("ratio", "0.3")),
                new Step(new MagnitudePruningPlugin(), Map.of("sparsity", "0.6")),
                new Step(new WeightSharingPlugin(), Map.of("bits", "4"))));
        compareChains(model, chains, quality, "top-1 (points)");
    }

    private void realCnns() throws Exception {
        OnnxModel classifier = OnnxModel.load(RealModels.OCR_CLASSIFIER.copyTo(temp.resolve("ocr")));
        List<Map<String, TensorData>> lines = digitStrips(16, 48, MnistModels.TRAIN);
        calibration = CalibrationData.of(digitStrips(8, 48, 0));
        realCnn("PaddleOCR angle classifier", classifier, "32 strips of six MNIST digits, 48x192 (16 upright, 16 turned"
                + " 180 degrees)", m -> {
                    OutputFidelity fidelity = fidelity(classifier, m, lines);
                    return String.format(Locale.ROOT, "%.3f / %.4f", fidelity.top1Agreement().orElse(Double.NaN),
                            fidelity.meanCosine());
                }, "top-1 agreement / mean cosine", "0.2", "5");

        OnnxModel detector = OnnxModel.load(RealModels.OCR_DETECTOR.copyTo(temp.resolve("ocr")));
        List<Map<String, TensorData>> pages = digitStrips(4, 64, MnistModels.TRAIN);
        calibration = CalibrationData.of(digitStrips(8, 64, 0));
        realCnn("PaddleOCR text detector", detector, "8 strips of six MNIST digits, 64x192 (4 upright, 4 turned); the"
                + " output is a text probability map", m -> {
                    OutputFidelity fidelity = fidelity(detector, m, pages);
                    return String.format(Locale.ROOT, "%.4f / %.3f", fidelity.meanCosine(), fidelity.relativeError());
                }, "mean cosine / relative error", "0.1", "6");
    }

    private void realCnn(String title, OnnxModel model, String inputs, Function<OnnxModel, String> quality,
            String label, String sparsity, String bits) throws Exception {
        System.out.println("\n### " + title + " (real CNN, Constant-node weights): the chain step by step (sparsity "
                + sparsity + ", " + bits + " bits)\n");
        System.out.println("Fidelity against the original on " + inputs + ".\n");
        stepByStep(model, deepCompression(sparsity, bits), quality, label);

        System.out.println("\n### " + title + ": scope x sparsity x bits, the whole chain\n");
        System.out.println("| scope | sparsity | bits | packaged bytes | fp32 / packaged | " + label + " |");
        System.out.println("|---|---:|---:|---:|---:|---:|");
        sweep(model, List.of("global", "lamp"), List.of("0.1", "0.2", "0.3", "0.5"), List.of("4", "6"),
                (scope, s, b, end, packed) -> System.out.printf(Locale.ROOT, "| %s | %s | %s | %,d | %.1fx | %s |%n",
                        scope, s, b, packed, (double) model.serializedSize() / packed, quality.apply(end)));

        System.out.println("\n### " + title + ": other chains and pruning alone, each ending in package\n");
        Map<String, List<Step>> chains = new LinkedHashMap<>();
        chains.put("package alone", List.of());
        chains.put("weight-sharing bits=" + bits, List.of(new Step(new WeightSharingPlugin(), Map.of("bits", bits))));
        chains.put("int8-dynamic", List.of(new Step(new Int8DynamicPlugin(), Map.of())));
        for (String s : List.of("0.1", "0.3", "0.5")) {
            chains.put("magnitude-pruning sparsity=" + s, List.of(
                    new Step(new MagnitudePruningPlugin(), Map.of("sparsity", s))));
            for (String scope : List.of("per-layer", "lamp")) {
                chains.put("magnitude-pruning sparsity=" + s + ", scope=" + scope, List.of(
                        new Step(new MagnitudePruningPlugin(), Map.of("sparsity", s, "scope", scope))));
            }
        }
        for (String ratio : List.of("0.1", "0.25")) {
            chains.put("structured-pruning ratio=" + ratio, List.of(
                    new Step(new StructuredPruningPlugin(), Map.of("ratio", ratio))));
            chains.put("structured-pruning ratio=" + ratio + ", rank=activations", List.of(
                    new Step(new StructuredPruningPlugin(), Map.of("ratio", ratio, "rank", "activations"))));
        }
        compareChains(model, chains, quality, label);
    }

    /** What a sweep prints for one model at the end of the chain, before packaging. */
    private interface SweepRow {
        void print(String scope, String sparsity, String bits, OnnxModel end, long packedBytes) throws Exception;
    }

    /** Pruning once per scope and sparsity, then weight sharing and int8 for each bit width, then packaging. */
    private void sweep(OnnxModel model, List<String> scopes, List<String> sparsities, List<String> bits, SweepRow row)
            throws Exception {
        for (String scope : scopes) {
            for (String sparsity : sparsities) {
                OnnxModel pruned = apply(new Step(new MagnitudePruningPlugin(), Map.of("sparsity", sparsity, "scope",
                        scope)), model).model();
                for (String b : bits) {
                    OnnxModel shared = apply(new Step(new WeightSharingPlugin(), Map.of("bits", b)), pruned).model();
                    OnnxModel end = apply(new Step(new Int8DynamicPlugin(), Map.of()), shared).model();
                    row.print(scope, sparsity, b, end, packedBytes(end));
                }
            }
        }
    }

    /** One row per step of the chain, the original first. */
    private void stepByStep(OnnxModel original, List<Step> chain, Function<OnnxModel, String> quality, String label)
            throws Exception {
        header("after step", label, "step ms");
        long baseline = original.serializedSize();
        row("fp32 original", measure(original, quality), baseline, "-");
        OnnxModel model = original;
        for (Step step : chain) {
            long start = System.nanoTime();
            PluginResult result = apply(step, model);
            double millis = (System.nanoTime() - start) / 1e6;
            model = result.model();
            String note = step.plugin().id().equals("int8-dynamic") ? noteOf(result) : "";
            row(step.label() + note, measure(model, quality), baseline, String.format(Locale.ROOT, "%.0f", millis));
        }
    }

    /** One row per chain, each measured after packaging. */
    private void compareChains(OnnxModel original, Map<String, List<Step>> chains, Function<OnnxModel, String> quality,
            String label) throws Exception {
        header("chain (then package)", label, "chain ms");
        long baseline = original.serializedSize();
        for (Map.Entry<String, List<Step>> chain : chains.entrySet()) {
            OnnxModel model = original;
            long start = System.nanoTime();
            for (Step step : chain.getValue()) {
                model = apply(step, model).model();
            }
            double millis = (System.nanoTime() - start) / 1e6;
            row(chain.getKey(), measure(model, quality), baseline, chain.getValue().isEmpty() ? "-"
                    : String.format(Locale.ROOT, "%.0f", millis));
        }
    }

    private static void header(String what, String quality, String time) {
        System.out.println("| " + what + " | stored elements | ONNX bytes | packaged bytes | fp32 ONNX / packaged | " + quality
                + " | " + time + " |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|");
    }

    private static void row(String label, Measured measured, long baseline, String millis) {
        System.out.printf(Locale.ROOT, "| %s | %,d | %,d | %,d | %.1fx | %s | %s |%n", label, measured.storedElements(),
                measured.onnxBytes(), measured.packedBytes(), (double) baseline / measured.packedBytes(),
                measured.quality(), millis);
    }

    /** Marks a step that reported no weight changed (int8 after weight sharing finds integer weights already). */
    private static String noteOf(PluginResult result) {
        Double quantized = result.figures().get("weights-quantized");
        return quantized != null && quantized == 0 ? " (no weight changed)" : "";
    }

    private Measured measure(OnnxModel model, Function<OnnxModel, String> quality) throws Exception {
        return new Measured(model.weights().totalElements(), model.serializedSize(), packedBytes(model),
                quality.apply(model));
    }

    private long packedBytes(OnnxModel model) throws Exception {
        return apply(new Step(packager, Map.of()), model).figures().get("packaged-bytes").longValue();
    }

    private PluginResult apply(Step step, OnnxModel model) throws Exception {
        Path folder = Files.createDirectories(temp.resolve("step-" + runs++));
        return step.plugin().apply(model, PluginOptions.resolve(step.plugin().options(), step.options()),
                PluginTestContext.in(folder).withCalibration(calibration));
    }

    private static double accuracy(OnnxModel model) {
        return MnistModels.accuracy(model, MnistModels.TRAIN, 10_000);
    }

    private static OutputFidelity fidelity(OnnxModel original, OnnxModel compressed, List<Map<String, TensorData>> samples) {
        try (OrtRunner a = OrtRunner.open(original); OrtRunner b = OrtRunner.open(compressed)) {
            return Fidelity.compare(a, b, samples).get(0);
        }
    }

    /**
     * Text-line-like inputs: six dark MNIST digits from {@code firstDigit} on white, {@code h} x 192, normalised as
     * PaddleOCR does; the same strips once upright and once turned 180 degrees.
     */
    static List<Map<String, TensorData>> digitStrips(int perOrientation, int h, int firstDigit) {
        Mnist digits = Mnist.load();
        int w = 192;
        int top = (h - 28) / 2;
        List<Map<String, TensorData>> samples = new ArrayList<>();
        for (int turned = 0; turned < 2; turned++) {
            for (int s = 0; s < perOrientation; s++) {
                float[] image = new float[3 * h * w];
                Arrays.fill(image, 1f);
                for (int d = 0; d < 6; d++) {
                    int digit = firstDigit + s * 6 + d;
                    for (int y = 0; y < 28; y++) {
                        for (int x = 0; x < 28; x++) {
                            float ink = 1f - digits.pixels()[digit * Mnist.PIXELS + y * 28 + x];
                            int row = turned == 1 ? h - 1 - top - y : top + y;
                            int col = turned == 1 ? w - 9 - d * 30 - x : 8 + d * 30 + x;
                            for (int c = 0; c < 3; c++) {
                                image[c * h * w + row * w + col] = ink;
                            }
                        }
                    }
                }
                for (int i = 0; i < image.length; i++) {
                    image[i] = (image[i] - 0.5f) / 0.5f;
                }
                samples.add(Map.of("x", TensorData.ofFloats(new long[] {1, 3, h, w}, image)));
            }
        }
        return samples;
    }
}

package io.modelpress.plugins.pruning;

import io.modelpress.inference.Fidelity;
import io.modelpress.inference.InputGenerator;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.plugins.packaging.PackagePlugin;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.Mnist;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.RealModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Pruning then packaging on the MNIST classifier (accuracy on the 2,000 held-out digits) and on the
 * PaddleOCR angle classifier (fidelity against the original on strips of MNIST digits, upright and
 * turned, as text-line-like inputs), and the speed of global magnitude selection on a large model.
 * Prints Markdown. Not a test: run it by hand (see bench/results/pruning.md for the command).
 */
public final class PruningBenchmark {

    private static final int RUNS = 5;
    private static final Path LARGE = Path.of("bench/models/cache/minilm-l6.onnx");

    private final Path temp;
    private final PackagePlugin packager = new PackagePlugin();

    private PruningBenchmark(Path temp) {
        this.temp = temp;
    }

    public static void main(String[] args) throws Exception {
        Path temp = Files.createTempDirectory("pruning-bench-");
        System.out.println("load average at start: " + Files.readString(Path.of("/proc/loadavg")).strip());
        PruningBenchmark bench = new PruningBenchmark(temp);
        bench.mnist();
        bench.ocr();
        Path large = args.length > 0 ? Path.of(args[0]) : LARGE;
        if (Files.isRegularFile(large)) {
            bench.speed(large);
        } else {
            System.out.println("\n(no " + large + ": selection speed on a large model not measured)");
        }
        System.out.println("\nload average at end: " + Files.readString(Path.of("/proc/loadavg")).strip());
    }

    private void mnist() throws Exception {
        OnnxModel model = MnistModels.mlp();
        System.out.println("\n### MNIST 784-256-128-10 MLP (held-out digits 8000..9999)\n");
        System.out.println("| model | parameters | non-zero | ONNX bytes | packaged bytes (zstd 19) | vs fp32 ONNX | top-1 | prune ms (median of "
                + RUNS + ") | package ms |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        long baseline = model.serializedSize();
        row("fp32 original", model, null, baseline, 0);
        MagnitudePruningPlugin magnitude = new MagnitudePruningPlugin();
        for (String sparsity : List.of("0.5", "0.8", "0.9", "0.95")) {
            Timed pruned = prune(magnitude, model, Map.of("sparsity", sparsity, "measure-packed", "false"));
            row("magnitude-pruning sparsity=" + sparsity + " (global)", pruned.result().model(), null, baseline, pruned.millis());
        }
        Timed perLayer = prune(magnitude, model, Map.of("sparsity", "0.9", "scope", "per-layer", "measure-packed", "false"));
        row("magnitude-pruning sparsity=0.9 (per-layer)", perLayer.result().model(), null, baseline, perLayer.millis());
        StructuredPruningPlugin structured = new StructuredPruningPlugin();
        for (String ratio : List.of("0.3", "0.5")) {
            Timed pruned = prune(structured, model, Map.of("ratio", ratio));
            row("structured-pruning ratio=" + ratio, pruned.result().model(), null, baseline, pruned.millis());
        }
        Timed both = prune(structured, model, Map.of("ratio", "0.3"));
        Timed then = prune(magnitude, both.result().model(), Map.of("sparsity", "0.8", "measure-packed", "false"));
        row("structured 0.3 then magnitude 0.8", then.result().model(), null, baseline, both.millis() + then.millis());
    }

    private void ocr() throws Exception {
        OnnxModel model = OnnxModel.load(RealModels.OCR_CLASSIFIER.copyTo(temp.resolve("ocr")));
        List<Map<String, TensorData>> strips = digitStrips(16);
        System.out.println("\n### PaddleOCR angle classifier (Constant-node weights), fidelity on 32 digit strips"
                + " (16 upright, 16 turned 180°)\n");
        System.out.println("| model | parameters | non-zero | ONNX bytes | packaged bytes (zstd 19) | vs fp32 ONNX | top-1 agreement"
                + " / mean cosine | prune ms (median of " + RUNS + ") | package ms |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        long baseline = model.serializedSize();
        row("fp32 original", model, fidelity(model, model, strips), baseline, 0);
        MagnitudePruningPlugin magnitude = new MagnitudePruningPlugin();
        for (String sparsity : List.of("0.3", "0.5", "0.8")) {
            Timed pruned = prune(magnitude, model, Map.of("sparsity", sparsity, "measure-packed", "false"));
            row("magnitude-pruning sparsity=" + sparsity, pruned.result().model(), fidelity(model, pruned.result().model(), strips),
                    baseline, pruned.millis());
        }
        Timed allLayers = prune(magnitude, model, Map.of("sparsity", "0.3", "min-elements", "1", "measure-packed", "false"));
        row("magnitude-pruning sparsity=0.3, min-elements=1", allLayers.result().model(),
                fidelity(model, allLayers.result().model(), strips), baseline, allLayers.millis());
        StructuredPruningPlugin structured = new StructuredPruningPlugin();
        for (String ratio : List.of("0.1", "0.25")) {
            Timed pruned = prune(structured, model, Map.of("ratio", ratio));
            row("structured-pruning ratio=" + ratio + " (" + pruned.result().figures().get("groups-pruned").intValue()
                    + " groups)", pruned.result().model(), fidelity(model, pruned.result().model(), strips), baseline,
                    pruned.millis());
        }
    }

    private void speed(Path file) throws Exception {
        OnnxModel model = OnnxModel.load(file);
        MagnitudePruningPlugin magnitude = new MagnitudePruningPlugin();
        Timed pruned = prune(magnitude, model, Map.of("sparsity", "0.5", "measure-packed", "false"));
        long eligible = pruned.result().figures().get("eligible-weights").longValue();
        List<float[]> values = new ArrayList<>();
        for (Weight weight : model.weights().all()) {
            if (weight.rank() == 2 && weight.elements() >= 1024 && weight.type().isFloatingPoint()) {
                values.add(Tensors.toFloats(model.weights().tensor(weight.ref())));
            }
        }
        double[] select = new double[RUNS];
        double[] sort = new double[RUNS];
        for (int r = 0; r < RUNS; r++) {
            List<float[]> copies = values.stream().map(float[]::clone).toList();
            long k = Math.round(0.5 * copies.stream().mapToLong(v -> v.length).sum());
            long start = System.nanoTime();
            MagnitudeSelect.zeroSmallest(copies, k, MagnitudeSelect.kthSmallest(copies, k));
            select[r] = (System.nanoTime() - start) / 1e6;
            start = System.nanoTime();
            sortedThreshold(values, k);
            sort[r] = (System.nanoTime() - start) / 1e6;
        }
        OutputFidelity fidelity;
        try (OrtRunner a = OrtRunner.open(model); OrtRunner b = OrtRunner.open(pruned.result().model())) {
            fidelity = Fidelity.compare(a, b, new InputGenerator(1, 32).generate(a.inputSpecs(), 4, 1)).get(0);
        }
        System.out.println("\n### Global magnitude selection speed: " + file.getFileName() + " ("
                + String.format(Locale.ROOT, "%,d", eligible) + " eligible weights in "
                + pruned.result().figures().get("tensors-pruned").intValue() + " tensors), sparsity 0.5\n");
        System.out.println("| what | median ms of " + RUNS + " | runs |");
        System.out.println("|---|---:|---|");
        System.out.printf(Locale.ROOT, "| whole magnitude-pruning step (read, select, zero, write tensors; no packed-size measure) | %.0f | %s |%n",
                pruned.millis(), Arrays.toString(pruned.runs()));
        System.out.printf(Locale.ROOT, "| histogram select + zeroing only (parallel, primitive) | %.0f | %s |%n",
                median(select), Arrays.toString(rounded(select)));
        System.out.printf(Locale.ROOT, "| baseline: copy all magnitudes into one float[] and Arrays.sort | %.0f | %s |%n",
                median(sort), Arrays.toString(rounded(sort)));
        System.out.printf(Locale.ROOT, "%nquality beside it: output '%s' mean cosine %.4f, min %.4f vs the original"
                + " (generated inputs: token ids 0/1, 32 tokens, 4 samples)%n", fidelity.output(), fidelity.meanCosine(),
                fidelity.minCosine());
    }

    private record Timed(PluginResult result, double millis, double[] runs) {
    }

    private Timed prune(CompressionPlugin plugin, OnnxModel model, Map<String, String> options) throws Exception {
        PluginOptions resolved = PluginOptions.resolve(plugin.options(), options);
        double[] runs = new double[RUNS];
        PluginResult result = null;
        for (int r = 0; r < RUNS; r++) {
            long start = System.nanoTime();
            result = plugin.apply(model, resolved, new TestContext(Files.createDirectories(temp.resolve("step"))));
            runs[r] = (System.nanoTime() - start) / 1e6;
        }
        return new Timed(result, median(runs), rounded(runs));
    }

    private void row(String label, OnnxModel model, OutputFidelity fidelity, long baseline, double pruneMillis)
            throws Exception {
        long start = System.nanoTime();
        PluginResult packed = packager.apply(model, PluginOptions.defaults(packager.options()),
                new TestContext(Files.createDirectories(temp.resolve("package"))));
        double packMillis = (System.nanoTime() - start) / 1e6;
        long packedBytes = packed.figures().get("packaged-bytes").longValue();
        long parameters = model.weights().totalElements();
        long nonzero = parameters - model.weights().all().stream().filter(w -> w.type().isFloatingPoint())
                .mapToLong(w -> Checks.zeros(Tensors.toFloats(model.weights().tensor(w.ref())))).sum();
        String quality = fidelity == null
                ? String.format(Locale.ROOT, "%.2f%%", 100 * MnistModels.accuracy(model, MnistModels.TRAIN, 10_000))
                : String.format(Locale.ROOT, "%.3f / %.4f", fidelity.top1Agreement().orElse(Double.NaN), fidelity.meanCosine());
        System.out.printf(Locale.ROOT, "| %s | %,d | %,d | %,d | %,d | %.2fx | %s | %s | %.0f |%n", label, parameters, nonzero,
                model.serializedSize(), packedBytes, (double) baseline / packedBytes, quality,
                pruneMillis == 0 ? "-" : String.format(Locale.ROOT, "%.0f", pruneMillis), packMillis);
    }

    private static OutputFidelity fidelity(OnnxModel original, OnnxModel pruned, List<Map<String, TensorData>> samples) {
        try (OrtRunner a = OrtRunner.open(original); OrtRunner b = OrtRunner.open(pruned)) {
            return Fidelity.compare(a, b, samples).get(0);
        }
    }

    /** Text-line-like inputs: six dark MNIST digits on white, 48×192, normalised as PaddleOCR does; half turned 180°. */
    static List<Map<String, TensorData>> digitStrips(int perOrientation) {
        Mnist digits = Mnist.load();
        int h = 48;
        int w = 192;
        List<Map<String, TensorData>> samples = new ArrayList<>();
        for (int turned = 0; turned < 2; turned++) {
            for (int s = 0; s < perOrientation; s++) {
                float[] image = new float[3 * h * w];
                Arrays.fill(image, 1f);
                for (int d = 0; d < 6; d++) {
                    int digit = MnistModels.TRAIN + s * 6 + d;
                    for (int y = 0; y < 28; y++) {
                        for (int x = 0; x < 28; x++) {
                            float ink = 1f - digits.pixels()[digit * Mnist.PIXELS + y * 28 + x];
                            int row = 10 + y;
                            int col = 8 + d * 30 + x;
                            if (turned == 1) {
                                row = h - 1 - row;
                                col = w - 1 - col;
                            }
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

    private static float sortedThreshold(List<float[]> values, long k) {
        int total = values.stream().mapToInt(v -> v.length).sum();
        float[] all = new float[total];
        int at = 0;
        for (float[] v : values) {
            for (float x : v) {
                all[at++] = Math.abs(x);
            }
        }
        Arrays.sort(all);
        return all[(int) k - 1];
    }

    private static double median(double[] runs) {
        double[] sorted = runs.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static double[] rounded(double[] runs) {
        return Arrays.stream(runs).map(Math::rint).toArray();
    }
}

package io.modelpress.plugins.sharing;

import com.github.luben.zstd.Zstd;
import io.modelpress.inference.Fidelity;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.plugins.pruning.MagnitudePruningPlugin;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.Mnist;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.PluginTestContext;
import io.modelpress.testkit.RealInputs;
import io.modelpress.testkit.RealModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Weight sharing after magnitude pruning, with pruned zeros kept as an entry of their own (the default) and
 * left to k-means ({@code keep-zeros=1}, the earlier behaviour), on the MNIST MLP and two PaddleOCR CNNs:
 * whether pruned weights stay 0, the packed size (zstd level 19, as the package plugin writes) and the quality.
 * Not a test: run by hand, results go to bench/low-rank.md.
 *
 * <pre>bench/weight-sharing.sh pruned</pre>
 */
public final class PrunedSharingBenchmark {

    private static final WeightSharingPlugin SHARING = new WeightSharingPlugin();
    private static final MagnitudePruningPlugin PRUNING = new MagnitudePruningPlugin();

    private final Path temp;

    private PrunedSharingBenchmark(Path temp) {
        this.temp = temp;
    }

    public static void main(String[] args) throws Exception {
        System.out.println("load average at start: " + Files.readString(Path.of("/proc/loadavg")).strip());
        PrunedSharingBenchmark bench = new PrunedSharingBenchmark(Files.createTempDirectory("pruned-sharing"));
        bench.mnist();
        bench.cnn(RealModels.OCR_DETECTOR, 64, List.of(new String[] {"lamp", "0.1", "6"}, new String[] {"lamp", "0.1", "4"},
                new String[] {"global", "0.2", "6"}, new String[] {"global", "0.2", "4"}));
        bench.cnn(RealModels.OCR_CLASSIFIER, 48, List.of(new String[] {"global", "0.2", "5"},
                new String[] {"lamp", "0.2", "6"}));
        bench.smallLayers(RealModels.OCR_CLASSIFIER);
        System.out.println("\nload average at end: " + Files.readString(Path.of("/proc/loadavg")).strip());
    }

    /** keep-zeros values compared: 1 leaves zeros to k-means (the earlier behaviour), 0.01 the default, 0 any zero. */
    private static final List<String> MODES = List.of("1", "0.01", "0");
    private static final int SEEDS = 5;

    private void mnist() throws Exception {
        OnnxModel original = MnistModels.mlp();
        System.out.printf(Locale.ROOT, "%nMNIST MLP, held-out top-1 of the original %.4f; relative error of the"
                + " outputs on training digits 2000-2399 against the pruned model; means over seeds 0-%d%n%n",
                MnistModels.accuracy(original, MnistModels.TRAIN, 10_000), SEEDS - 1);
        header("sparsity (global)", "held-out top-1 pruned → shared (min-max) | relative error");
        List<Map<String, TensorData>> digits = List.of(Map.of("pixels",
                TensorData.ofFloats(new long[] {400, Mnist.PIXELS}, Mnist.load().images(2000, 2400))));
        for (String sparsity : List.of("0.1", "0.3", "0.6")) {
            OnnxModel pruned = prune(original, "global", sparsity);
            double prunedAccuracy = MnistModels.accuracy(pruned, MnistModels.TRAIN, 10_000);
            for (String bits : List.of("3", "4", "6")) {
                for (String keep : MODES) {
                    Runs runs = new Runs();
                    for (int seed = 0; seed < SEEDS; seed++) {
                        Shared shared = share(pruned, bits, keep, seed);
                        runs.add(shared, MnistModels.accuracy(shared.result().model(), MnistModels.TRAIN, 10_000),
                                fidelity(pruned, shared.result().model(), digits).relativeError());
                    }
                    row(sparsity, bits, keep, runs, String.format(Locale.ROOT, "%.4f → %.4f (%.4f-%.4f) | %.4f",
                            prunedAccuracy, runs.quality.getAverage(), runs.quality.getMin(), runs.quality.getMax(),
                            runs.error.getAverage()));
                }
            }
        }
    }

    private void cnn(RealModels which, int height, List<String[]> settings) throws Exception {
        OnnxModel original = OnnxModel.load(which.copyTo(temp.resolve(which.name())));
        SplittableRandom random = new SplittableRandom(11);
        List<Map<String, TensorData>> pages = new ArrayList<>();
        for (int s = 0; s < 8; s++) {
            pages.add(Map.of("x", RealInputs.image(random, height, 192)));
        }
        System.out.printf(Locale.ROOT, "%n%s: %d bytes, %d stored elements, %d packed bytes; fidelity against the"
                + " fp32 original on 8 RealInputs text images %dx192; means over seeds 0-%d%n%n", which,
                original.serializedSize(), original.weights().totalElements(), packed(original), height, SEEDS - 1);
        header("scope, sparsity", "mean cosine pruned → shared (min-max) | relative error pruned → shared");
        for (String[] setting : settings) {
            OnnxModel pruned = prune(original, setting[0], setting[1]);
            OutputFidelity before = fidelity(original, pruned, pages);
            for (String keep : MODES) {
                Runs runs = new Runs();
                for (int seed = 0; seed < SEEDS; seed++) {
                    Shared shared = share(pruned, setting[2], keep, seed);
                    OutputFidelity after = fidelity(original, shared.result().model(), pages);
                    runs.add(shared, after.meanCosine(), after.relativeError());
                }
                row(setting[0] + " " + setting[1], setting[2], keep, runs, String.format(Locale.ROOT,
                        "%.4f → %.4f (%.4f-%.4f) | %.3f → %.3f", before.meanCosine(), runs.quality.getAverage(),
                        runs.quality.getMin(), runs.quality.getMax(), before.relativeError(), runs.error.getAverage()));
            }
        }
    }

    /** Small layers: what the size rule skips when every layer weight may be clustered (min-elements 1). */
    private void smallLayers(RealModels which) throws Exception {
        OnnxModel original = OnnxModel.load(which.copyTo(temp.resolve(which.name() + "-small")));
        System.out.printf(Locale.ROOT, "%n%s unpruned: %,d stored elements, %,d ONNX bytes%n%n", which,
                original.weights().totalElements(), original.serializedSize());
        System.out.println("| bits | min-elements | layers shared | skipped: too few values / not smaller / below"
                + " min-elements | stored elements | ONNX bytes |");
        System.out.println("|---:|---:|---:|---|---:|---:|");
        for (String bits : List.of("2", "5", "8")) {
            for (String min : List.of("1", "1024")) {
                PluginResult result = apply(SHARING, original, Map.of("bits", bits, "min-elements", min));
                System.out.printf(Locale.ROOT, "| %s | %s | %.0f | %d / %d / %d | %,d | %,d |%n", bits, min,
                        result.figures().get("layers-shared"), skippedFor(result, "clusters of"),
                        skippedFor(result, "indices and codebook would take"), skippedFor(result, "min-elements"),
                        result.model().weights().totalElements(), result.model().serializedSize());
            }
        }
    }

    private static long skippedFor(PluginResult result, String reason) {
        return result.skipped().stream().filter(s -> s.reason().contains(reason)).count();
    }

    /** What sharing made of a pruned model, and how many of its pruned zeros came back non-zero. */
    private record Shared(PluginResult result, long zeros, long lostZeros, int layersLosing, long millis) {
    }

    /** The runs of one setting over the seeds. */
    private static final class Runs {
        final java.util.DoubleSummaryStatistics quality = new java.util.DoubleSummaryStatistics();
        final java.util.DoubleSummaryStatistics error = new java.util.DoubleSummaryStatistics();
        final java.util.DoubleSummaryStatistics lost = new java.util.DoubleSummaryStatistics();
        final java.util.DoubleSummaryStatistics packed = new java.util.DoubleSummaryStatistics();
        final List<Long> millis = new ArrayList<>();
        Shared first;

        void add(Shared shared, double quality, double error) {
            first = first == null ? shared : first;
            this.quality.accept(quality);
            this.error.accept(error);
            lost.accept(shared.lostZeros());
            packed.accept(packed(shared.result().model()));
            millis.add(shared.millis());
        }
    }

    private Shared share(OnnxModel pruned, String bits, String keepZeros, int seed) throws Exception {
        long start = System.nanoTime();
        PluginResult result = apply(SHARING, pruned, Map.of("bits", bits, "keep-zeros", keepZeros,
                "seed", Integer.toString(seed)));
        long millis = (System.nanoTime() - start) / 1_000_000;
        long zeros = 0;
        long lost = 0;
        int layersLosing = 0;
        for (SharedLayer layer : WeightSharingPlugin.layers(pruned)) {
            if (result.skipped().stream().anyMatch(s -> s.part().equals(layer.label()))) {
                continue;
            }
            float[] before = Tensors.toFloats(pruned.weights().tensor(layer.weight().ref()));
            float[] after = WeightSharingPluginTest.decode(result.model(), layer.name());
            long layerLost = 0;
            for (int i = 0; i < before.length; i++) {
                zeros += before[i] == 0f ? 1 : 0;
                layerLost += before[i] == 0f && after[i] != 0f ? 1 : 0;
            }
            lost += layerLost;
            layersLosing += layerLost > 0 ? 1 : 0;
        }
        return new Shared(result, zeros, lost, layersLosing, millis);
    }

    private static void header(String setting, String quality) {
        System.out.println("| " + setting + " | bits | zeros | layers shared / skipped / zeros kept | pruned zeros"
                + " decoded ≠ 0: seed 0 (layers), mean | stored elements | ONNX bytes | packed bytes (mean) | " + quality
                + " | ms (median) |");
        System.out.println("|---|---:|---|---:|---:|---:|---:|---:|---|---|---:|");
    }

    private static void row(String setting, String bits, String keep, Runs runs, String quality) {
        PluginResult result = runs.first.result();
        OnnxModel model = result.model();
        List<Long> millis = new ArrayList<>(runs.millis);
        java.util.Collections.sort(millis);
        String mode = switch (keep) {
            case "1" -> "k-means";
            case "0" -> "kept (any)";
            default -> "kept (≥ " + Math.round(Double.parseDouble(keep) * 100) + "%)";
        };
        System.out.printf(Locale.ROOT, "| %s | %s | %s | %.0f / %.0f / %.0f | %,d of %,d (%d), %,.0f | %,d | %,d | %,.0f"
                + " | %s | %d |%n", setting, bits, mode, result.figures().get("layers-shared"),
                result.figures().get("layers-skipped"), result.figures().get("layers-zero-kept"),
                runs.first.lostZeros(), runs.first.zeros(), runs.first.layersLosing(), runs.lost.getAverage(),
                model.weights().totalElements(), model.serializedSize(), runs.packed.getAverage(), quality,
                millis.get(millis.size() / 2));
    }

    private OnnxModel prune(OnnxModel model, String scope, String sparsity) throws Exception {
        return apply(PRUNING, model, Map.of("scope", scope, "sparsity", sparsity, "measure-packed", "false")).model();
    }

    private PluginResult apply(CompressionPlugin plugin, OnnxModel model, Map<String, String> options) throws Exception {
        return plugin.apply(model, PluginOptions.resolve(plugin.options(), options), PluginTestContext.in(temp));
    }

    private static long packed(OnnxModel model) {
        return Zstd.compress(model.toByteArray(), 19).length;
    }

    private static OutputFidelity fidelity(OnnxModel original, OnnxModel compressed, List<Map<String, TensorData>> samples) {
        try (OrtRunner before = OrtRunner.open(original); OrtRunner after = OrtRunner.open(compressed)) {
            return Fidelity.compare(before, after, samples).get(0);
        }
    }
}

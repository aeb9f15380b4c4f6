package io.modelpress.plugins.sharing;

import io.modelpress.inference.Fidelity;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.BenchSetup;
import io.modelpress.testkit.RealInputs;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.PluginTestContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Clustering speed (MB/s of fp32 weights) on MiniLM's MatMul weights, one thread and through the
 * plugin (parallel over layers), with the mean squared error beside it, and the whole plugin's
 * size and fidelity. Not a test: run by hand, results go to bench/low-rank.md.
 *
 * <pre>bench/weight-sharing.sh [runs]</pre>
 */
public final class WeightSharingBenchmark {

    /** k-means of one layer runs on one thread: its CPU time is what it costs whatever else the machine runs. */
    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    private WeightSharingBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path modelFile = BenchSetup.model(args);
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        BenchSetup.printMachine();
        OnnxModel model = OnnxModel.load(modelFile);
        List<float[]> weights = new ArrayList<>();
        long elements = 0;
        for (Weight weight : model.weights().all()) {
            if (weight.uses().stream().anyMatch(SharedLayer::isLayerUse) && weight.elements() >= 1024) {
                float[] values = Tensors.toFloats(model.weights().tensor(weight.ref()));
                weights.add(values);
                elements += values.length;
            }
        }
        double megabytes = elements * 4 / 1e6;
        System.out.printf(Locale.ROOT, "%d MatMul weights, %d values, %.1f MB of fp32%n", weights.size(), elements, megabytes);
        System.out.println("\n| bits | one thread, all layers: ms wall / CPU (median) | per layer: ms wall / CPU | MB/s (CPU)"
                + " | through the plugin (parallel): ms wall (median) | MB/s (wall) | MSE | MSE / mean square"
                + " | model bytes before → after | cosine mean / min |");
        System.out.println("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        Path temp = Files.createTempDirectory("weight-sharing-bench");
        WeightSharingPlugin plugin = new WeightSharingPlugin();
        for (int bits : new int[] {2, 4, 8}) {
            double[] single = new double[runs];
            double[] singleCpu = new double[runs];
            double error = 0;
            double square = 0;
            for (int run = -1; run < runs; run++) { // one warm-up run
                long start = System.nanoTime();
                long startCpu = THREADS.getCurrentThreadCpuTime();
                error = 0;
                square = 0;
                for (float[] values : weights) {
                    KMeans1D.Result result = KMeans1D.cluster(values, 1 << bits, 0, 100, 1e-6, v -> (float) v);
                    error += result.mse() * values.length;
                    square += result.meanSquare() * values.length;
                }
                if (run >= 0) {
                    single[run] = (System.nanoTime() - start) / 1e6;
                    singleCpu[run] = (THREADS.getCurrentThreadCpuTime() - startCpu) / 1e6;
                }
            }
            double[] whole = new double[runs];
            PluginResult result = null;
            PluginOptions options = PluginOptions.resolve(plugin.options(), Map.of("bits", Integer.toString(bits)));
            for (int run = -1; run < runs; run++) {
                long start = System.nanoTime();
                result = plugin.apply(model, options, PluginTestContext.in(temp));
                if (run >= 0) {
                    whole[run] = (System.nanoTime() - start) / 1e6;
                }
            }
            OutputFidelity fidelity = fidelity(model, result.model());
            System.out.printf(Locale.ROOT, "| %d | %.0f / %.0f | %.1f / %.1f | %.0f | %.0f | %.0f | %.3e | %.4f | %d → %d"
                    + " | %.4f / %.4f |%n", bits, median(single), median(singleCpu), median(single) / weights.size(),
                    median(singleCpu) / weights.size(), megabytes / (median(singleCpu) / 1000), median(whole),
                    megabytes / (median(whole) / 1000), error / elements, error / square, model.serializedSize(),
                    result.model().serializedSize(), fidelity.meanCosine(), fidelity.minCosine());
        }
        mnist();
    }

    /** The shipped MNIST MLP at each bit width: bytes and held-out top-1 accuracy. */
    private static void mnist() throws Exception {
        OnnxModel model = MnistModels.mlp();
        WeightSharingPlugin plugin = new WeightSharingPlugin();
        Path temp = Files.createTempDirectory("weight-sharing-mnist");
        double before = MnistModels.accuracy(model, MnistModels.TRAIN, 10_000);
        System.out.println("\n| MNIST MLP, bits | layers shared | weight bytes before → after | model bytes before → after"
                + " | held-out top-1 before → after |");
        System.out.println("| --- | --- | --- | --- | --- |");
        for (int bits = 2; bits <= 8; bits++) {
            PluginResult result = plugin.apply(model, PluginOptions.resolve(plugin.options(),
                    Map.of("bits", Integer.toString(bits))), PluginTestContext.in(temp));
            System.out.printf(Locale.ROOT, "| %d | %.0f | %.0f → %.0f | %d → %d | %.4f → %.4f |%n", bits,
                    result.figures().get("layers-shared"), result.figures().get("weight-bytes-before"),
                    result.figures().get("weight-bytes-after"), model.serializedSize(), result.model().serializedSize(),
                    before, MnistModels.accuracy(result.model(), MnistModels.TRAIN, 10_000));
        }
    }

    /** Eight sequences of 32 random token ids (1000..29999) between [CLS] and [SEP], all attended. */
    private static OutputFidelity fidelity(OnnxModel original, OnnxModel compressed) {
        List<Map<String, TensorData>> samples = RealInputs.tokenIds(7, 8, 32);
        try (OrtRunner before = OrtRunner.open(original); OrtRunner after = OrtRunner.open(compressed)) {
            return Fidelity.compare(before, after, samples).get(0);
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}

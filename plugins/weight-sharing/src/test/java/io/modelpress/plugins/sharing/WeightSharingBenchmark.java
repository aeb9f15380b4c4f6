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
 * size and fidelity. Not a test: run by hand, results go to bench/results/weight-sharing.md.
 *
 * <pre>bench/weight-sharing.sh [runs]</pre>
 */
public final class WeightSharingBenchmark {

    private WeightSharingBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path modelFile = Path.of(args.length > 0 ? args[0] : "bench/models/cache/minilm-l6.onnx");
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        if (!Files.exists(modelFile)) {
            throw new IllegalArgumentException(modelFile + " not found; run bench/models/fetch-models.sh");
        }
        System.out.printf("java %s, %d cores, max heap %d MiB%n", System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
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
        System.out.println("\n| bits | one thread: ms (median) | MB/s | through the plugin (parallel): ms (median) | MB/s |"
                + " MSE | MSE / mean square | model bytes before → after | cosine mean / min |");
        System.out.println("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        Path temp = Files.createTempDirectory("weight-sharing-bench");
        WeightSharingPlugin plugin = new WeightSharingPlugin();
        for (int bits : new int[] {2, 4, 8}) {
            double[] single = new double[runs];
            double error = 0;
            double square = 0;
            for (int run = -1; run < runs; run++) { // one warm-up run
                long start = System.nanoTime();
                error = 0;
                square = 0;
                for (float[] values : weights) {
                    KMeans1D.Result result = KMeans1D.cluster(values, 1 << bits, 0, 100, 1e-6, v -> (float) v);
                    error += result.mse() * values.length;
                    square += result.meanSquare() * values.length;
                }
                if (run >= 0) {
                    single[run] = (System.nanoTime() - start) / 1e6;
                }
            }
            double[] whole = new double[runs];
            PluginResult result = null;
            PluginOptions options = PluginOptions.resolve(plugin.options(), Map.of("bits", Integer.toString(bits)));
            for (int run = -1; run < runs; run++) {
                long start = System.nanoTime();
                result = plugin.apply(model, options, TestContext.of(temp));
                if (run >= 0) {
                    whole[run] = (System.nanoTime() - start) / 1e6;
                }
            }
            OutputFidelity fidelity = fidelity(model, result.model());
            System.out.printf(Locale.ROOT, "| %d | %.0f | %.0f | %.0f | %.0f | %.3e | %.4f | %d → %d | %.4f / %.4f |%n",
                    bits, median(single), megabytes / (median(single) / 1000), median(whole),
                    megabytes / (median(whole) / 1000), error / elements, error / square, model.serializedSize(),
                    result.model().serializedSize(), fidelity.meanCosine(), fidelity.minCosine());
        }
    }

    /** Eight sequences of 32 random token ids (1000..29999) between [CLS] and [SEP], all attended. */
    private static OutputFidelity fidelity(OnnxModel original, OnnxModel compressed) {
        SplittableRandom random = new SplittableRandom(7);
        List<Map<String, TensorData>> samples = new ArrayList<>();
        int length = 32;
        for (int s = 0; s < 8; s++) {
            long[] ids = new long[length];
            long[] mask = new long[length];
            for (int i = 0; i < length; i++) {
                ids[i] = i == 0 ? 101 : i == length - 1 ? 102 : 1000 + random.nextInt(29000);
                mask[i] = 1;
            }
            long[] shape = {1, length};
            samples.add(Map.of("input_ids", TensorData.ofLongs(shape, ids), "attention_mask",
                    TensorData.ofLongs(shape, mask), "token_type_ids", TensorData.ofLongs(shape, new long[length])));
        }
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

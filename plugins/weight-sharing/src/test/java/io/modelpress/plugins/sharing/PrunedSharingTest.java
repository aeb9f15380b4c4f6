package io.modelpress.plugins.sharing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import io.modelpress.inference.OrtRunner;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.plugins.pruning.MagnitudePruningPlugin;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.Mnist;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.PluginTestContext;
import io.modelpress.testkit.RealInputs;
import io.modelpress.testkit.RealModels;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Weight sharing after magnitude pruning, the order of Deep Compression: the pruned zeros must stay zeros. */
class PrunedSharingTest {

    private final WeightSharingPlugin sharing = new WeightSharingPlugin();

    @TempDir
    Path temp;

    @Test
    void prunedZerosDecodeToExactlyZeroAndKeptWeightsNeverDo() throws Exception {
        OnnxModel pruned = prune(MnistModels.mlp(), "global", "0.1");
        PluginResult shared = apply(sharing, pruned, Map.of("bits", "4"));

        Map<String, float[]> before = layerWeights(pruned);
        Map<String, float[]> after = decodedInOrt(shared.model(), pruned);
        long zeros = 0;
        for (Map.Entry<String, float[]> layer : before.entrySet()) {
            float[] original = layer.getValue();
            float[] decoded = after.get(layer.getKey());
            for (int i = 0; i < original.length; i++) {
                if ((original[i] == 0f) != (decoded[i] == 0f)) {
                    throw new AssertionError(layer.getKey() + "[" + i + "]: " + original[i] + " decodes to " + decoded[i]);
                }
                zeros += original[i] == 0f ? 1 : 0;
            }
        }
        assertTrue(zeros > 0.09 * MnistModels.mlp().weights().totalElements(), "pruning left " + zeros + " zeros");
        assertEquals(zeros, shared.figures().get("zeros-kept"));
        assertEquals(3.0, shared.figures().get("layers-zero-kept"), shared.changes().toString());
        assertTrue(shared.changes().stream().allMatch(c -> c.contains("0.0 kept for")), shared.changes().toString());

        // left to k-means, 10% of zeros share a cluster with small kept weights and decode to its centre
        Map<String, float[]> merged = decodedInOrt(apply(sharing, pruned, Map.of("bits", "4", "keep-zeros", "1")).model(),
                pruned);
        long moved = 0;
        for (Map.Entry<String, float[]> layer : before.entrySet()) {
            float[] decoded = merged.get(layer.getKey());
            for (int i = 0; i < decoded.length; i++) {
                moved += layer.getValue()[i] == 0f && decoded[i] != 0f ? 1 : 0;
            }
        }
        assertTrue(moved > zeros / 2, "with keep-zeros 1, " + moved + " of " + zeros + " zeros decode to non-zero");
    }

    @Test
    void aPrunedRealCnnFollowsTheOriginalCloserWhenItsZerosAreKept() throws Exception {
        OnnxModel original = OnnxModel.load(RealModels.OCR_DETECTOR.copyTo(temp));
        OnnxModel pruned = prune(original, "global", "0.2");
        SplittableRandom random = new SplittableRandom(11);
        List<Map<String, TensorData>> pages = List.of(Map.of("x", RealInputs.image(random, 64, 192)),
                Map.of("x", RealInputs.image(random, 64, 192)));
        // k-means seeds move a CNN's fidelity a lot: compare the means over three seeds
        double kept = 0;
        double merged = 0;
        for (String seed : List.of("0", "1", "2")) {
            kept += WeightSharingPluginTest.fidelity(original, apply(sharing, pruned, Map.of("bits", "4", "seed", seed))
                    .model(), pages).meanCosine() / 3;
            merged += WeightSharingPluginTest.fidelity(original, apply(sharing, pruned, Map.of("bits", "4", "seed", seed,
                    "keep-zeros", "1")).model(), pages).meanCosine() / 3;
        }
        System.out.printf("PaddleOCR detector, 20%% pruned, 4 bits: mean cosine %.4f with zeros kept, %.4f left to"
                + " k-means%n", kept, merged);
        assertTrue(kept > merged, kept + " vs " + merged);
    }

    @Test
    void aPrunedMnistMlpIsFollowedAtLeastAsWellAsWhenZerosAreLeftToKMeans() throws Exception {
        OnnxModel pruned = prune(MnistModels.mlp(), "global", "0.3");
        double before = MnistModels.accuracy(pruned, MnistModels.TRAIN, 10_000);
        List<Map<String, TensorData>> digits = digits(2000, 2400);
        double[] kept = new double[2];
        double[] merged = new double[2];
        for (String seed : List.of("0", "1", "2")) {
            measure(apply(sharing, pruned, Map.of("bits", "4", "seed", seed)).model(), pruned, digits, kept);
            measure(apply(sharing, pruned, Map.of("bits", "4", "seed", seed, "keep-zeros", "1")).model(), pruned, digits,
                    merged);
        }
        System.out.printf("MNIST MLP, 30%% pruned, 4 bits, 3 seeds: held-out top-1 %.4f pruned, %.4f with zeros kept,"
                + " %.4f left to k-means; relative error %.4f / %.4f%n", before, kept[0] / 3, merged[0] / 3, kept[1] / 3,
                merged[1] / 3);
        assertTrue(kept[1] <= merged[1], "relative error " + kept[1] / 3 + " vs " + merged[1] / 3);
        // accuracy on 2,000 digits moves by a few digits from seed to seed: within 0.2 points
        assertTrue(kept[0] >= merged[0] - 3 * 0.002, "held-out accuracy " + kept[0] / 3 + " vs " + merged[0] / 3);
        assertTrue(kept[0] / 3 >= before - 0.005, before + " → " + kept[0] / 3);
    }

    /** Adds the held-out accuracy and the relative error against {@code pruned} to {@code sums}. */
    private static void measure(OnnxModel shared, OnnxModel pruned, List<Map<String, TensorData>> digits, double[] sums) {
        sums[0] += MnistModels.accuracy(shared, MnistModels.TRAIN, 10_000);
        sums[1] += WeightSharingPluginTest.fidelity(pruned, shared, digits).relativeError();
    }

    // ---- helpers

    private OnnxModel prune(OnnxModel model, String scope, String sparsity) throws PluginException {
        return apply(new MagnitudePruningPlugin(), model, Map.of("scope", scope, "sparsity", sparsity, "measure-packed",
                "false")).model();
    }

    private PluginResult apply(CompressionPlugin plugin, OnnxModel model, Map<String, String> options)
            throws PluginException {
        return plugin.apply(model, PluginOptions.resolve(plugin.options(), options), PluginTestContext.in(temp));
    }

    /** Every layer weight of the model by name. */
    private static Map<String, float[]> layerWeights(OnnxModel model) {
        Map<String, float[]> weights = new LinkedHashMap<>();
        for (SharedLayer layer : WeightSharingPlugin.layers(model)) {
            weights.put(layer.name(), Tensors.toFloats(model.weights().tensor(layer.weight().ref())));
        }
        return weights;
    }

    /**
     * The layer weights of {@code original} as ONNX Runtime decodes them in {@code shared}: each decoded
     * weight (the Gather's output keeps the weight's name) is made a graph output.
     */
    private static Map<String, float[]> decodedInOrt(OnnxModel shared, OnnxModel original) {
        GraphProto.Builder graph = shared.proto().getGraph().toBuilder();
        List<SharedLayer> layers = WeightSharingPlugin.layers(original);
        for (SharedLayer layer : layers) {
            Object[] dims = java.util.Arrays.stream(layer.weight().dims()).boxed().toArray();
            graph.addOutput(Nodes.tensorValue(layer.name(), DataType.FLOAT, dims));
        }
        OnnxModel probe = shared.withProto(shared.proto().toBuilder().setGraph(graph).build());
        Map<String, float[]> decoded = new LinkedHashMap<>();
        try (OrtRunner runner = OrtRunner.open(probe)) {
            Map<String, TensorData> outputs = runner.run(digits(0, 1).get(0));
            for (SharedLayer layer : layers) {
                decoded.put(layer.name(), outputs.get(layer.name()).toFloats());
            }
        }
        return decoded;
    }

    /** Training digits [from, to) as one batch for the MLP's input. */
    private static List<Map<String, TensorData>> digits(int from, int to) {
        float[] images = Mnist.load().images(from, to);
        return List.of(Map.of("pixels", TensorData.ofFloats(new long[] {to - from, Mnist.PIXELS}, images)));
    }
}

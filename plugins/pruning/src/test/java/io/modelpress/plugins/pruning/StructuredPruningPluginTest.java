package io.modelpress.plugins.pruning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.model.WeightIndex;
import io.modelpress.spi.OptionException;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.PluginTestContext;
import io.modelpress.testkit.RealModels;
import io.modelpress.testkit.TestModels;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StructuredPruningPluginTest {

    private final StructuredPruningPlugin plugin = new StructuredPruningPlugin();

    @TempDir
    Path temp;

    @Test
    void removesHiddenUnitsOfTheMnistClassifierAndKeepsItsAccuracy() throws Exception {
        OnnxModel model = MnistModels.mlp();
        PluginResult result = apply(model, Map.of("ratio", "0.3"));
        OnnxModel pruned = result.model();

        int hidden1 = 256 - (int) Math.round(0.3 * 256);
        int hidden2 = 128 - (int) Math.round(0.3 * 128);
        assertArrayEquals(new long[] {784, hidden1}, Checks.dims(pruned, "fc1.weight"));
        assertArrayEquals(new long[] {hidden1}, Checks.dims(pruned, "fc1.bias"));
        assertArrayEquals(new long[] {hidden1, hidden2}, Checks.dims(pruned, "fc2.weight"));
        assertArrayEquals(new long[] {hidden2}, Checks.dims(pruned, "fc2.bias"));
        assertArrayEquals(new long[] {hidden2, 10}, Checks.dims(pruned, "fc3.weight"));
        assertArrayEquals(new long[] {10}, Checks.dims(pruned, "fc3.bias"));
        assertArrayEquals(new long[] {784, 256}, Checks.dims(model, "fc1.weight"), "the input model is not changed");
        assertTrue(result.skipped().stream().anyMatch(s -> s.part().contains("fc3")
                && s.reason().equals("reaches the graph output 'logits'")), result.skipped().toString());
        assertEquals(pruned.weights().totalElements(), result.figures().get("parameters"));
        assertTrue(result.figures().get("onnx-bytes") < 0.75 * result.figures().get("onnx-bytes-before"));

        double before = MnistModels.accuracy(model, MnistModels.TRAIN, 10_000);
        double after = MnistModels.accuracy(pruned, MnistModels.TRAIN, 10_000);
        assertTrue(after > before - 0.01, "30% of the hidden units cost under a point: " + before + " -> " + after);
        Checks.assertRunsLikeOriginal(model, pruned, 3, 8);
    }

    @Test
    void keepsTheUnitsWithTheLargestNorms() throws Exception {
        OnnxModel model = MnistModels.mlp();
        for (String norm : List.of("l1", "l2")) {
            OnnxModel pruned = apply(model, Map.of("ratio", "0.5", "norm", norm)).model();
            float[] w = Checks.values(model, "fc1.weight");
            double[] norms = StructuredPruningPlugin.norms(w, new long[] {784, 256}, 1, norm.equals("l1"));
            double[] sorted = norms.clone();
            java.util.Arrays.sort(sorted);
            double median = sorted[128];
            float[] kept = Checks.values(pruned, "fc1.weight");
            double[] keptNorms = StructuredPruningPlugin.norms(kept, new long[] {784, 128}, 1, norm.equals("l1"));
            for (double n : keptNorms) {
                assertTrue(n >= median - 1e-9, norm + ": a kept unit's norm " + n + " is below the median " + median);
            }
        }
    }

    @Test
    void removingDeadUnitsOfAGemmMatMulChainChangesNoOutput() throws Exception {
        OnnxModel model = TestModels.mlp(6, 10, 3, 4);
        Set<Integer> dead = Set.of(2, 5, 7);
        OnnxModel withDeadUnits = mapWeights(model, Map.of(
                "w1", (values, i) -> dead.contains(i % 10) ? 0f : values[i],
                "b1", (values, i) -> dead.contains(i) ? 0f : values[i]));
        PluginResult result = apply(withDeadUnits, Map.of("ratio", "0.3"));

        assertArrayEquals(new long[] {6, 7}, Checks.dims(result.model(), "w1"));
        assertArrayEquals(new long[] {7, 3}, Checks.dims(result.model(), "w2"), "the MatMul loses the matching rows");
        double difference = Checks.assertRunsLikeOriginal(withDeadUnits, result.model(), 5, 6);
        assertTrue(difference < 1e-5, "only units that contribute nothing were removed: " + difference);
    }

    @Test
    void removesConvChannelsWithTheirBatchNormEntriesAndTheGemmRows() throws Exception {
        OnnxModel model = TestModels.cnn(8, 4, 9);
        Set<Integer> dead = Set.of(1, 5);
        // a channel whose filter, bias, mean and shift are zero outputs zero after BatchNorm and Relu
        OnnxModel withDeadChannels = mapWeights(model, Map.of(
                "conv_w", (values, i) -> dead.contains(i / 27) ? 0f : values[i],
                "conv_b", (values, i) -> dead.contains(i) ? 0f : values[i],
                "bn_mean", (values, i) -> dead.contains(i) ? 0f : values[i],
                "bn_bias", (values, i) -> dead.contains(i) ? 0f : values[i]));
        PluginResult result = apply(withDeadChannels, Map.of("ratio", "0.25", "norm", "l1"));
        OnnxModel pruned = result.model();

        assertArrayEquals(new long[] {6, 3, 3, 3}, Checks.dims(pruned, "conv_w"));
        for (String perChannel : List.of("conv_b", "bn_scale", "bn_bias", "bn_mean", "bn_var")) {
            assertArrayEquals(new long[] {6}, Checks.dims(pruned, perChannel), perChannel);
        }
        assertArrayEquals(new long[] {6, 4}, Checks.dims(pruned, "fc_w"), "Flatten after the global pool maps channel to row");
        assertTrue(result.skipped().stream().anyMatch(s -> s.reason().equals("reaches the graph output 'y'")));
        double difference = Checks.assertRunsLikeOriginal(withDeadChannels, pruned, 2, 16);
        assertTrue(difference < 1e-5, "only dead channels were removed: " + difference);

        Checks.assertRunsLikeOriginal(model, apply(model, Map.of("ratio", "0.5")).model(), 2, 16);
    }

    @Test
    void prunesARealCnnThroughDepthwiseResidualAndExcitationBlocks() throws Exception {
        OnnxModel model = OnnxModel.load(RealModels.OCR_CLASSIFIER.copyTo(temp));
        PluginResult result = apply(model, Map.of("ratio", "0.25"));
        OnnxModel pruned = result.model();

        assertTrue(result.figures().get("parameters") < 0.8 * result.figures().get("parameters-before"),
                result.figures().toString());
        assertTrue(result.changes().stream().anyMatch(line -> line.contains("coupled layers")),
                "residual Adds and excitation Muls couple layers that are pruned together");
        assertTrue(result.skipped().stream().anyMatch(s -> s.reason().startsWith("feeds Shape")), result.skipped().toString());
        for (NodeProto node : pruned.proto().getGraph().getNodeList()) {
            long group = Nodes.intAttribute(node, "group", 1);
            if (node.getOpType().equals("Conv") && group > 1) {
                assertEquals(Checks.dims(pruned, node.getInput(1))[0], group, "depthwise " + node.getName());
            }
        }
        Checks.assertRunsLikeOriginal(model, pruned, 1, 48);
    }

    @Test
    void aPrunedRealCnnComputesWhatTheOriginalDoesWithTheRemovedChannelsUnread() throws Exception {
        OnnxModel model = OnnxModel.load(RealModels.OCR_CLASSIFIER.copyTo(temp));
        double ratio = 0.25;
        OnnxModel pruned = apply(model, Map.of("ratio", Double.toString(ratio))).model();

        // the same channels, left in place but zeroed wherever a next layer reads them
        WeightIndex index = model.weights();
        Map<Weight.Ref, float[]> masked = new LinkedHashMap<>();
        int groups = 0;
        for (ChannelGroups.Group group : ChannelGroups.of(model)) {
            int remove = (int) Math.min(group.channels() - 1L, Math.round(ratio * group.channels()));
            if (group.blocked().isPresent() || remove < 1) {
                continue;
            }
            groups++;
            int[] keep = StructuredPruningPlugin.keep(StructuredPruningPlugin.rank(group, index, false), remove);
            for (ChannelGroups.Reader reader : group.readers()) {
                float[] values = masked.computeIfAbsent(reader.slice().weight(), ref -> Tensors.toFloats(index.tensor(ref)));
                zeroAllBut(values, index.get(reader.slice().weight()).orElseThrow().dims(), reader.slice().axis(), keep);
            }
        }
        assertTrue(groups > 5, "the classifier has many prunable groups: " + groups);
        Map<Weight.Ref, TensorProto> replacements = new LinkedHashMap<>();
        masked.forEach((ref, values) -> replacements.put(ref, WeightBytes.withZeros(index.tensor(ref), values)));
        OnnxModel unread = model.withProto(WeightIndex.replace(model.proto(), replacements));

        double difference = Checks.assertRunsLikeOriginal(unread, pruned, 2, 48);
        assertTrue(difference < 1e-4, "removing channels is exactly not reading them: " + difference);
        double change = Checks.assertRunsLikeOriginal(model, pruned, 2, 48);
        assertTrue(change > 1e-3, "the removed channels mattered, so the comparison means something: " + change);
    }

    /** Zeroes every index along {@code axis} that {@code keep} does not hold. */
    private static void zeroAllBut(float[] values, long[] dims, int axis, int[] keep) {
        boolean[] kept = new boolean[(int) dims[axis]];
        for (int k : keep) {
            kept[k] = true;
        }
        long inner = 1;
        for (int d = axis + 1; d < dims.length; d++) {
            inner *= dims[d];
        }
        for (int i = 0; i < values.length; i++) {
            if (!kept[(int) (i / inner % dims[axis])]) {
                values[i] = 0f;
            }
        }
    }

    @Test
    void couplesTwoBranchesThatAreAddedTogether() throws Exception {
        SplittableRandom random = new SplittableRandom(2);
        GraphProto graph = GraphProto.newBuilder().setName("branches")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", 8))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", 4))
                .addInitializer(TestModels.floats("wa", random, 8, 16))
                .addInitializer(TestModels.floats("wb", random, 16, 8))
                .addInitializer(TestModels.floats("wc", random, 16, 4))
                .addNode(Nodes.node("MatMul", "a", List.of("x", "wa"), List.of("ha")))
                .addNode(Nodes.node("Gemm", "b", List.of("x", "wb"), List.of("hb"), Nodes.attr("transB", 1L)))
                .addNode(Nodes.node("Add", "join", List.of("ha", "hb"), List.of("h")))
                .addNode(Nodes.node("Relu", "relu", List.of("h"), List.of("r")))
                .addNode(Nodes.node("Gemm", "c", List.of("r", "wc"), List.of("y")))
                .build();
        OnnxModel model = TestModels.model(graph);
        PluginResult result = apply(model, Map.of("ratio", "0.25"));
        assertArrayEquals(new long[] {8, 12}, Checks.dims(result.model(), "wa"));
        assertArrayEquals(new long[] {12, 8}, Checks.dims(result.model(), "wb"), "transB: the rows are the units");
        assertArrayEquals(new long[] {12, 4}, Checks.dims(result.model(), "wc"));
        assertTrue(result.changes().get(0).startsWith("MatMul 'a' and 1 coupled layer: 16 -> 12"), result.changes().toString());
        Checks.assertRunsLikeOriginal(model, result.model(), 2, 4);
    }

    @Test
    void leavesLayersWhoseChannelsCannotBeFollowed() {
        SplittableRandom random = new SplittableRandom(3);
        GraphProto graph = GraphProto.newBuilder().setName("blocked")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", 8))
                .addInput(Nodes.tensorValue("image", DataType.FLOAT, "batch", 3, 4, 4))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", 4))
                .addOutput(Nodes.tensorValue("z", DataType.FLOAT, "batch", 8))
                .addOutput(Nodes.tensorValue("v", DataType.FLOAT, "batch", 2))
                .addInitializer(TestModels.floats("w1", random, 8, 16))
                .addInitializer(Tensors.ofInt64("shape", new long[] {2}, new long[] {-1, 16}))
                .addInitializer(TestModels.floats("w2", random, 16, 4))
                .addInitializer(TestModels.floats("w3", random, 8, 8))
                .addInitializer(TestModels.floats("k", random, 4, 3, 3, 3))
                .addInitializer(TestModels.floats("w4", random, 64, 2))
                .addNode(Nodes.node("MatMul", "reshaped", List.of("x", "w1"), List.of("h1")))
                .addNode(Nodes.node("Reshape", "reshape", List.of("h1", "shape"), List.of("r")))
                .addNode(Nodes.node("MatMul", "out", List.of("r", "w2"), List.of("y")))
                .addNode(Nodes.node("MatMul", "residual", List.of("x", "w3"), List.of("h3")))
                .addNode(Nodes.node("Add", "skip", List.of("h3", "x"), List.of("z")))
                .addNode(Nodes.node("Conv", "conv", List.of("image", "k"), List.of("c"), Nodes.attr("pads", new long[] {1, 1, 1, 1})))
                .addNode(Nodes.node("Flatten", "flatten", List.of("c"), List.of("f")))
                .addNode(Nodes.node("Gemm", "head", List.of("f", "w4"), List.of("v")))
                .build();
        PluginException error = assertThrows(PluginException.class, () -> apply(TestModels.model(graph), Map.of("ratio", "0.5")));
        String message = error.getMessage();
        assertTrue(message.startsWith("nothing to prune: "), message);
        assertTrue(message.contains("MatMul 'reshaped': feeds Reshape 'reshape'"), message);
        assertTrue(message.contains("MatMul 'residual': Add 'skip' combines its channels with the computed tensor 'x'"), message);
        assertTrue(message.contains("Conv 'conv': feeds Flatten 'flatten', which would mix spatial positions"), message);
        assertTrue(message.contains("MatMul 'out': reaches the graph output 'y'"), message);
        assertEquals(1, message.lines().count());
    }

    @Test
    void saysSoWhenTheModelHasNoLayers() {
        GraphProto noLayers = GraphProto.newBuilder().setName("relu")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", 4))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", 4))
                .addNode(Nodes.node("Relu", "relu", List.of("x"), List.of("y"))).build();
        PluginException error = assertThrows(PluginException.class, () -> apply(TestModels.model(noLayers), Map.of()));
        assertEquals("nothing to prune: the model has no Conv, Gemm or MatMul layer whose weight is a float tensor of"
                + " the main graph", error.getMessage());
    }

    @Test
    void leavesAWeightThatTwoLayersShare() throws Exception {
        SplittableRandom random = new SplittableRandom(4);
        GraphProto graph = GraphProto.newBuilder().setName("tied")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", 8))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", 4))
                .addInitializer(TestModels.floats("w", random, 8, 8))
                .addInitializer(TestModels.floats("head", random, 8, 4))
                .addNode(Nodes.node("MatMul", "first", List.of("x", "w"), List.of("a")))
                .addNode(Nodes.node("Relu", "relu", List.of("a"), List.of("b")))
                .addNode(Nodes.node("MatMul", "second", List.of("b", "w"), List.of("c")))
                .addNode(Nodes.node("MatMul", "out", List.of("c", "head"), List.of("y")))
                .build();
        PluginException error = assertThrows(PluginException.class, () -> apply(TestModels.model(graph), Map.of()));
        assertTrue(error.getMessage().contains("weight 'w' is shared by layers whose channels would be cut differently"),
                error.getMessage());
    }

    @Test
    void ranksByWhatChannelsCarryOnCalibrationData() throws Exception {
        OnnxModel model = MnistModels.mlp();
        PluginTestContext context = PluginTestContext.in(temp)
                .withCalibration(MnistModels.calibration("pixels", 0, 1600, 100));
        PluginResult result = plugin.apply(model, PluginOptions.resolve(plugin.options(),
                Map.of("ratio", "0.5", "rank", "activations")), context);
        assertArrayEquals(new long[] {784, 128}, Checks.dims(result.model(), "fc1.weight"));
        Checks.assertRunsLikeOriginal(model, result.model(), 3, 8);
        double before = MnistModels.accuracy(model, MnistModels.TRAIN, 10_000);
        double after = MnistModels.accuracy(result.model(), MnistModels.TRAIN, 10_000);
        assertTrue(after > before - 0.015, "half the hidden units, ranked on training digits: " + before + " -> " + after);

        // a unit that is never active carries nothing, whatever its weights: it goes first (the last of any ties)
        OnnxModel withSilentUnit = mapWeights(model, Map.of("fc1.bias", (values, i) -> i == 255 ? -1e3f : values[i]));
        OnnxModel pruned = plugin.apply(withSilentUnit, PluginOptions.resolve(plugin.options(),
                Map.of("ratio", "0.002", "rank", "activations")), context).model(); // one unit of fc1, none of fc2
        assertArrayEquals(new long[] {784, 255}, Checks.dims(pruned, "fc1.weight"));
        double difference = Checks.assertRunsLikeOriginal(withSilentUnit, pruned, 3, 8);
        assertTrue(difference < 1e-4, "removing the silent unit changes nothing: " + difference);

        PluginException none = assertThrows(PluginException.class, () -> apply(model, Map.of("rank", "activations")));
        assertEquals("option 'rank' = activations measures channels on calibration data, and none was supplied",
                none.getMessage());
    }

    @Test
    void keepsTheOutputsOfExcludedLayers() throws Exception {
        OnnxModel model = MnistModels.mlp();
        PluginResult result = apply(model, Map.of("ratio", "0.5", "exclude", "fc1"));
        assertArrayEquals(new long[] {784, 256}, Checks.dims(result.model(), "fc1.weight"));
        assertArrayEquals(new long[] {256, 64}, Checks.dims(result.model(), "fc2.weight"), "fc2 still loses units");
        assertArrayEquals(new long[] {64, 10}, Checks.dims(result.model(), "fc3.weight"));
        assertTrue(result.skipped().stream().anyMatch(s -> s.part().equals("outputs of Gemm 'fc1'")
                && s.reason().equals("excluded: Gemm 'fc1'")), result.skipped().toString());
        Checks.assertRunsLikeOriginal(model, result.model(), 2, 4);

        PluginException byType = assertThrows(PluginException.class, () -> apply(model, Map.of("exclude", "Gemm")));
        assertTrue(byType.getMessage().startsWith("nothing to prune: ") && byType.getMessage().contains("excluded: Gemm"),
                byType.getMessage());

        PluginException unknown = assertThrows(PluginException.class, () -> apply(model, Map.of("exclude", "fc9")));
        assertTrue(unknown.getMessage().contains("'fc9'") && unknown.getMessage().contains("fc1 (Gemm)"), unknown.getMessage());
        assertEquals(1, unknown.getMessage().lines().count());
    }

    @Test
    void refusesARatioOfOne() {
        OptionException error = assertThrows(OptionException.class,
                () -> PluginOptions.resolve(plugin.options(), Map.of("ratio", "1")));
        assertTrue(error.getMessage().contains("'ratio'") && error.getMessage().contains("0..0.999"), error.getMessage());
    }

    @Test
    void reportsProgressFromStartToDone() throws Exception {
        PluginTestContext context = PluginTestContext.in(temp);
        plugin.apply(MnistModels.mlp(), PluginOptions.resolve(plugin.options(), Map.of("ratio", "0.25")), context);
        Checks.assertProgressFromStartToDone(context);
    }

    @Test
    void stopsWhenCancelled() {
        PluginTestContext cancelled = PluginTestContext.in(temp);
        cancelled.cancel();
        assertThrows(CancellationException.class, () -> plugin.apply(MnistModels.mlp(),
                PluginOptions.defaults(plugin.options()), cancelled));
    }

    private PluginResult apply(OnnxModel model, Map<String, String> options) throws PluginException {
        return plugin.apply(model, PluginOptions.resolve(plugin.options(), options), PluginTestContext.in(temp));
    }

    interface ValueMap {
        float apply(float[] values, int index);
    }

    private static OnnxModel mapWeights(OnnxModel model, Map<String, ValueMap> maps) {
        GraphProto.Builder graph = model.proto().getGraph().toBuilder();
        for (int t = 0; t < graph.getInitializerCount(); t++) {
            TensorProto tensor = graph.getInitializer(t);
            ValueMap map = maps.get(tensor.getName());
            if (map == null) {
                continue;
            }
            float[] values = Tensors.toFloats(tensor);
            float[] mapped = new float[values.length];
            for (int i = 0; i < values.length; i++) {
                mapped[i] = map.apply(values, i);
            }
            graph.setInitializer(t, Tensors.ofFloats(tensor.getName(), Tensors.dims(tensor), mapped));
        }
        assertEquals(maps.size(), model.weights().all().stream().map(Weight::name).filter(maps::containsKey).count());
        return model.withProto(model.proto().toBuilder().setGraph(graph).build());
    }
}

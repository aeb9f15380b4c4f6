package io.modelpress.plugins.pruning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.inference.OrtRunner;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.spi.OptionException;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.PluginTestContext;
import io.modelpress.testkit.TestModels;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MagnitudePruningPluginTest {

    private static final List<String> MNIST_WEIGHTS = List.of("fc1.weight", "fc2.weight", "fc3.weight");

    private final MagnitudePruningPlugin plugin = new MagnitudePruningPlugin();

    @TempDir
    Path temp;

    @Test
    void prunesTheSmallestMagnitudesOfMnistToTheTargetAndKeepsAccuracy() throws Exception {
        OnnxModel model = MnistModels.mlp();
        PluginResult result = apply(model, Map.of("sparsity", "0.8"));
        OnnxModel pruned = result.model();

        long total = 0;
        long zeros = 0;
        float largestPruned = 0;
        float smallestKept = Float.MAX_VALUE;
        for (String name : MNIST_WEIGHTS) {
            float[] before = Checks.values(model, name);
            float[] after = Checks.values(pruned, name);
            assertEquals(0, Checks.zeros(before), "the input model is not changed");
            for (int i = 0; i < before.length; i++) {
                if (after[i] == 0f) {
                    largestPruned = Math.max(largestPruned, Math.abs(before[i]));
                } else {
                    assertEquals(before[i], after[i], "kept weights keep their exact value");
                    smallestKept = Math.min(smallestKept, Math.abs(before[i]));
                }
            }
            total += after.length;
            zeros += Checks.zeros(after);
        }
        assertTrue(largestPruned <= smallestKept, "one global threshold: " + largestPruned + " vs " + smallestKept);
        assertEquals(Math.round(0.8 * total), zeros, "exactly the target share of the eligible weights is zero");
        assertEquals((double) zeros / total, result.figures().get("sparsity"), 1e-12);
        assertEquals(largestPruned, result.figures().get("threshold"), 1e-7);
        assertEquals(3, result.changes().stream().filter(line -> line.contains("sparsity 0.0% ->")).count(),
                result.changes().toString());

        double accuracyBefore = MnistModels.accuracy(model, MnistModels.TRAIN, 10_000);
        double accuracyAfter = MnistModels.accuracy(pruned, MnistModels.TRAIN, 10_000);
        assertTrue(accuracyAfter > accuracyBefore - 0.02,
                "80% sparsity without retraining costs under 2 points: " + accuracyBefore + " -> " + accuracyAfter);
        Checks.assertRunsLikeOriginal(model, pruned, 4, 8);
    }

    @Test
    void reportsTheOnnxAndThePackedSize() throws Exception {
        OnnxModel model = MnistModels.mlp();
        PluginResult result = apply(model, Map.of("sparsity", "0.9"));
        assertEquals(result.model().serializedSize(), result.figures().get("onnx-bytes"));
        double before = result.figures().get("zstd-bytes-before");
        double after = result.figures().get("zstd-bytes");
        assertTrue(after < before / 4, "90% zeros pack at least 4x smaller than dense weights: " + before + " -> " + after);
        assertTrue(result.changes().stream().anyMatch(line -> line.startsWith("ONNX file")), result.changes().toString());
    }

    @Test
    void perLayerScopeBringsEveryLayerToTheTarget() throws Exception {
        OnnxModel model = MnistModels.mlp();
        OnnxModel pruned = apply(model, Map.of("sparsity", "0.6", "scope", "per-layer")).model();
        for (String name : MNIST_WEIGHTS) {
            float[] after = Checks.values(pruned, name);
            assertEquals(Math.round(0.6 * after.length), Checks.zeros(after), name);
        }
    }

    @Test
    void layerAdaptiveScopeReachesTheTargetAndEmptiesNoLayer() throws Exception {
        OnnxModel model = MnistModels.mlp();
        PluginResult result = apply(model, Map.of("sparsity", "0.99", "scope", "lamp"));
        long total = 0;
        long zeros = 0;
        for (String name : MNIST_WEIGHTS) {
            float[] before = Checks.values(model, name);
            float[] after = Checks.values(result.model(), name);
            assertTrue(Checks.zeros(after) < after.length, name + " keeps at least its largest weight");
            int largest = 0;
            for (int i = 1; i < before.length; i++) {
                largest = Math.abs(before[i]) > Math.abs(before[largest]) ? i : largest;
            }
            assertEquals(before[largest], after[largest], name + ": the largest weight scores 1 and stays");
            total += after.length;
            zeros += Checks.zeros(after);
        }
        assertEquals(Math.round(0.99 * total), zeros, "exactly the target share of the eligible weights is zero");
        assertTrue(result.figures().containsKey("score-threshold"), result.figures().toString());
        Checks.assertRunsLikeOriginal(model, result.model(), 4, 8);

        double accuracy = MnistModels.accuracy(apply(model, Map.of("sparsity", "0.6", "scope", "lamp")).model(),
                MnistModels.TRAIN, 10_000);
        double before = MnistModels.accuracy(model, MnistModels.TRAIN, 10_000);
        assertTrue(accuracy > before - 0.01, "60% by layer-adaptive scores costs under a point: " + before + " -> " + accuracy);
    }

    @Test
    void leavesExcludedLayersAndSmallWeightsDense() throws Exception {
        OnnxModel model = MnistModels.mlp();
        PluginResult byName = apply(model, Map.of("sparsity", "0.5", "exclude", "fc1"));
        assertEquals(0, Checks.zeros(Checks.values(byName.model(), "fc1.weight")));
        assertTrue(Checks.zeros(Checks.values(byName.model(), "fc2.weight")) > 0);
        assertTrue(byName.skipped().stream().anyMatch(s -> s.part().equals("fc1.weight") && s.reason().startsWith("excluded")),
                byName.skipped().toString());

        PluginException byType = assertThrows(PluginException.class,
                () -> apply(model, Map.of("sparsity", "0.5", "exclude", "Gemm")));
        assertTrue(byType.getMessage().startsWith("nothing to prune: ") && byType.getMessage().contains("excluded"),
                byType.getMessage());

        PluginResult small = apply(model, Map.of("sparsity", "0.5", "min-elements", "2000"));
        assertEquals(0, Checks.zeros(Checks.values(small.model(), "fc3.weight")), "1,280 elements are under 2,000");
        assertTrue(small.skipped().stream().anyMatch(s -> s.reason().contains("under min-elements (2000): fc3.weight")),
                small.skipped().toString());
    }

    @Test
    void refusesAnExcludedLayerThatDoesNotExist() {
        PluginException error = assertThrows(PluginException.class,
                () -> apply(MnistModels.mlp(), Map.of("exclude", "fc1,fc9")));
        assertTrue(error.getMessage().contains("'fc9'"), error.getMessage());
        assertTrue(error.getMessage().contains("fc1 (Gemm), fc2 (Gemm), fc3 (Gemm)"), error.getMessage());
        assertEquals(1, error.getMessage().lines().count());
    }

    @Test
    void refusesSparsityOfOneOrBelowZero() {
        for (String bad : new String[] {"1.0", "1", "-0.1", "1.5"}) {
            OptionException error = assertThrows(OptionException.class,
                    () -> PluginOptions.resolve(plugin.options(), Map.of("sparsity", bad)));
            assertTrue(error.getMessage().contains("'sparsity'") && error.getMessage().contains("out of range")
                    && error.getMessage().contains("0..0.999"), error.getMessage());
        }
    }

    @Test
    void saysSoWhenThereIsNothingToPrune() throws Exception {
        OnnxModel pruned = apply(MnistModels.mlp(), Map.of("sparsity", "0.8")).model();
        PluginException already = assertThrows(PluginException.class, () -> apply(pruned, Map.of("sparsity", "0.5")));
        assertTrue(already.getMessage().startsWith("nothing to prune: ") && already.getMessage().contains("already 80.0% sparse"),
                already.getMessage());

        PluginException perLayer = assertThrows(PluginException.class,
                () -> apply(pruned, Map.of("sparsity", "0.05", "scope", "per-layer")));
        assertTrue(perLayer.getMessage().startsWith("nothing to prune: "), perLayer.getMessage());

        PluginException zero = assertThrows(PluginException.class, () -> apply(MnistModels.mlp(), Map.of("sparsity", "0")));
        assertTrue(zero.getMessage().startsWith("nothing to prune: sparsity 0"), zero.getMessage());

        GraphProto noLayers = GraphProto.newBuilder().setName("relu")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", 4))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", 4))
                .addNode(Nodes.node("Relu", "relu", List.of("x"), List.of("y"))).build();
        PluginException none = assertThrows(PluginException.class,
                () -> apply(TestModels.model(noLayers), Map.of()));
        assertTrue(none.getMessage().startsWith("nothing to prune: "), none.getMessage());
    }

    @Test
    void prunesConstantNodeAndSubgraphWeights() throws Exception {
        OnnxModel constants = TestModels.mlpWithConstantNodes(16, 32, 8, 3);
        PluginResult result = apply(constants, Map.of("sparsity", "0.5", "min-elements", "16"));
        for (String name : List.of("w1", "w2")) {
            Weight weight = result.model().weights().all().stream().filter(w -> w.name().equals(name)).findFirst().orElseThrow();
            assertEquals(Weight.Storage.CONSTANT_NODE, weight.storage());
            assertTrue(Checks.zeros(Checks.values(result.model(), name)) > 0, name);
        }
        Checks.assertRunsLikeOriginal(constants, result.model(), 3, 4);

        OnnxModel branching = TestModels.withIfSubgraph(16, 8, 3);
        OnnxModel prunedBranches = apply(branching, Map.of("sparsity", "0.5", "min-elements", "16")).model();
        assertEquals(128, Checks.zeros(Checks.values(prunedBranches, "w")) + Checks.zeros(Checks.values(prunedBranches, "else_w")),
                "half of the 2 x 128 weights of the outer weight and the branch's own weight, under one threshold");
        for (boolean flag : new boolean[] {true, false}) {
            TensorData condition = new TensorData(DataType.BOOL, new long[0], ByteBuffer.wrap(new byte[] {(byte) (flag ? 1 : 0)}));
            TensorData x = TensorData.ofFloats(new long[] {1, 16}, new float[16]);
            try (OrtRunner runner = OrtRunner.open(prunedBranches)) {
                assertEquals(List.of("y"), List.copyOf(runner.run(Map.of("x", x, "flag", condition)).keySet()));
            }
        }
    }

    @Test
    void leavesWeightsThatOtherOperatorsAlsoRead() throws Exception {
        SplittableRandom random = new SplittableRandom(1);
        GraphProto graph = GraphProto.newBuilder().setName("shared")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, 4, 4))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, 4, 4))
                .addInitializer(TestModels.floats("w", random, 4, 4))
                .addNode(Nodes.node("MatMul", "mm", List.of("x", "w"), List.of("h")))
                .addNode(Nodes.node("Add", "add", List.of("h", "w"), List.of("y"))).build();
        PluginException error = assertThrows(PluginException.class,
                () -> apply(TestModels.model(graph), Map.of("min-elements", "1")));
        assertTrue(error.getMessage().contains("w: also read by Add 'add'"), error.getMessage());
    }

    @Test
    void keepsFloat16ValuesBitForBit() {
        float[] values = {0.5f, -0.125f, 3f, 0.0009765625f};
        TensorProto half = Tensors.ofFloat16("h", new long[] {2, 2}, values);
        float[] pruned = values.clone();
        pruned[1] = 0f;
        TensorProto written = WeightBytes.withZeros(half, pruned);
        assertEquals(DataType.FLOAT16, DataType.of(written));
        assertEquals(List.of(0.5f, 0f, 3f, 0.0009765625f), boxed(Tensors.toFloats(written)));
    }

    @Test
    void reportsProgressFromStartToDone() throws Exception {
        PluginTestContext context = PluginTestContext.in(temp);
        plugin.apply(MnistModels.mlp(), PluginOptions.resolve(plugin.options(), Map.of("sparsity", "0.5", "scope", "per-layer")), context);
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

    private static List<Float> boxed(float[] values) {
        List<Float> list = new java.util.ArrayList<>();
        for (float v : values) {
            list.add(v);
        }
        return list;
    }
}

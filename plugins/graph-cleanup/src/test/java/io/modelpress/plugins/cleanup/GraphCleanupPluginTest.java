package io.modelpress.plugins.cleanup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.inference.OrtRunner;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Weight;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.ModelRunner;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.TestModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GraphCleanupPluginTest {

    private final GraphCleanupPlugin plugin = new GraphCleanupPlugin();

    @Test
    void removesDeadNodesAndUnusedInitializersWithoutChangingOutputs() {
        OnnxModel model = TestModels.mlp(8, 16, 4, 7);
        PluginResult result = plugin.apply(model, PluginOptions.defaults(plugin.options()), context());

        GraphProto cleaned = result.model().proto().getGraph();
        assertTrue(cleaned.getNodeList().stream().noneMatch(node -> node.getName().equals("dead_branch")));
        assertTrue(cleaned.getInitializerList().stream().noneMatch(t -> t.getName().equals("unused_weight")));
        assertEquals(4, cleaned.getNodeCount());
        assertEquals(1.0, result.figures().get("nodes-removed"));
        assertEquals(1.0, result.figures().get("initializers-removed"));
        double saved = result.figures().get("bytes-saved");
        assertTrue(saved >= 16 * 16 * 4 && saved < 16 * 16 * 4 + 200, "the unused weight's bytes and its node: " + saved);
        assertEquals(5, model.proto().getGraph().getNodeCount(), "the input model is not changed");
        assertSameOutputs(model, result.model(), Map.of("x", input(new long[] {3, 8})));
    }

    @Test
    void keepsOuterWeightsThatOnlyASubgraphReads() {
        OnnxModel model = TestModels.withIfSubgraph(6, 3, 3);
        PluginResult result = plugin.apply(model, PluginOptions.defaults(plugin.options()), context());

        assertTrue(result.model().proto().getGraph().getInitializerList().stream().anyMatch(t -> t.getName().equals("w")),
                "w is read only inside the then-branch and must stay");
        assertEquals(0.0, result.figures().get("nodes-removed"));
        assertEquals(List.of("nothing to clean: every node and weight is used and no weight is stored twice"),
                result.changes());
        for (boolean flag : new boolean[] {true, false}) {
            TensorData condition = new TensorData(DataType.BOOL, new long[0],
                    java.nio.ByteBuffer.wrap(new byte[] {(byte) (flag ? 1 : 0)}));
            assertSameOutputs(model, result.model(), Map.of("x", input(new long[] {1, 6}), "flag", condition));
        }
    }

    @Test
    void removesDeadNodesInsideSubgraphs() {
        OnnxModel model = TestModels.withIfSubgraph(6, 3, 3);
        GraphProto graph = model.proto().getGraph();
        NodeProto ifNode = graph.getNode(0);
        GraphProto thenBranch = ifNode.getAttribute(0).getG().toBuilder()
                .addNode(Nodes.node("Relu", "dead_in_branch", List.of("x"), List.of("unused_relu"))).build();
        NodeProto withDeadNode = ifNode.toBuilder().setAttribute(0, Nodes.attr("then_branch", thenBranch)).build();
        OnnxModel dirty = model.withProto(model.proto().toBuilder().setGraph(graph.toBuilder().setNode(0, withDeadNode)).build());

        PluginResult result = plugin.apply(dirty, PluginOptions.defaults(plugin.options()), context());
        assertEquals(1.0, result.figures().get("nodes-removed"));
        assertTrue(result.changes().get(0).contains("'dead_in_branch' (Relu)"), result.changes().toString());
    }

    @Test
    void mergesIdenticalWeightsAndKeepsOutputs() {
        OnnxModel model = TestModels.mlp(32, 32, 32, 5);
        GraphProto graph = model.proto().getGraph();
        TensorProto w1 = graph.getInitializerList().stream().filter(t -> t.getName().equals("w1")).findFirst().orElseThrow();
        GraphProto.Builder tied = graph.toBuilder();
        for (int i = 0; i < tied.getInitializerCount(); i++) {
            if (tied.getInitializer(i).getName().equals("w2")) {
                tied.setInitializer(i, w1.toBuilder().setName("w2"));
            }
        }
        OnnxModel tiedModel = model.withProto(model.proto().toBuilder().setGraph(tied).build());

        PluginResult result = plugin.apply(tiedModel, PluginOptions.defaults(plugin.options()), context());
        assertEquals(1.0, result.figures().get("weights-merged"));
        List<Weight> weights = result.model().weights().all();
        assertTrue(weights.stream().noneMatch(w -> w.name().equals("w2")), "the twin is gone");
        assertEquals(2, weights.stream().filter(w -> w.name().equals("w1")).findFirst().orElseThrow().uses().size());
        assertSameOutputs(tiedModel, result.model(), Map.of("x", input(new long[] {2, 32})));
    }

    @Test
    void doesNothingWhenAllCleaningIsSwitchedOff() {
        OnnxModel model = TestModels.mlp(8, 16, 4, 7);
        PluginOptions off = PluginOptions.resolve(plugin.options(),
                Map.of("dead-nodes", "false", "unused-initializers", "false", "deduplicate", "false"));
        PluginResult result = plugin.apply(model, off, context());
        assertEquals(model.proto(), result.model().proto());
    }

    private static void assertSameOutputs(OnnxModel original, OnnxModel cleaned, Map<String, TensorData> inputs) {
        assertNotSame(original, cleaned);
        try (OrtRunner before = OrtRunner.open(original); OrtRunner after = OrtRunner.open(cleaned)) {
            Map<String, TensorData> expected = before.run(inputs);
            Map<String, TensorData> actual = after.run(inputs);
            assertEquals(expected.keySet(), actual.keySet());
            expected.forEach((name, value) -> assertArrayEquals(value.toFloats(), actual.get(name).toFloats(), name));
            assertFalse(expected.isEmpty());
        }
    }

    private static TensorData input(long[] shape) {
        SplittableRandom random = new SplittableRandom(11);
        float[] values = new float[(int) (shape[0] * shape[1])];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextDouble(-1, 1);
        }
        return TensorData.ofFloats(shape, values);
    }

    private static PluginContext context() {
        return new PluginContext() {
            @Override
            public void progress(double fraction, String message) {
            }

            @Override
            public boolean isCancelled() {
                return false;
            }

            @Override
            public Path tempDir() {
                return Path.of(System.getProperty("java.io.tmpdir"));
            }

            @Override
            public Optional<io.modelpress.spi.CalibrationData> calibrationData() {
                return Optional.empty();
            }

            @Override
            public HardwareProfile profile() {
                throw new UnsupportedOperationException("graph-cleanup does not read the profile");
            }

            @Override
            public ModelRunner runner(OnnxModel model) {
                return OrtRunner.open(model);
            }
        };
    }
}

package io.modelpress.plugins.fusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import io.modelpress.inference.OrtRunner;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.Precision;
import io.modelpress.spi.QuantizedFormat;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.PluginTestContext;
import io.modelpress.testkit.TestModels;
import io.modelpress.testkit.TinyBert;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TransformerFusionPluginTest {

    private static final int LAYERS = 2;
    private static final int HIDDEN = 32;

    private final TransformerFusionPlugin plugin = new TransformerFusionPlugin();

    @Test
    void fusesEveryBertSubgraphIntoContribOperators() {
        PluginResult result = fuse(TinyBert.model(LAYERS, HIDDEN, 4, 1));
        Map<String, Integer> ops = opCounts(result.model());

        assertEquals(LAYERS, ops.getOrDefault("com.microsoft.Attention", 0), ops.toString());
        assertEquals(2 * LAYERS, ops.getOrDefault("com.microsoft.SkipLayerNormalization", 0), ops.toString());
        assertEquals(1, ops.getOrDefault("com.microsoft.EmbedLayerNormalization", 0), ops.toString());
        assertEquals(LAYERS, ops.getOrDefault("com.microsoft.BiasGelu", 0), ops.toString());
        for (String gone : List.of("Softmax", "Erf", "ReduceMean", "Transpose", "Reshape", "Sqrt", "Pow", "Gather", "Slice")) {
            assertFalse(ops.containsKey(gone), gone + " should be fused away: " + ops);
        }
        assertEquals(2, ops.getOrDefault("Cast", 0), "one mask cast serves every attention, one ids cast: " + ops);
        assertEquals(LAYERS, result.figures().get("attention-fused"));
        assertEquals(1, result.figures().get("embed-layer-norm-fused"));
        assertTrue(result.changes().contains("fused 1 embedding lookups + layer norm into EmbedLayerNormalization"),
                result.changes().toString());
        assertTrue(result.changes().contains("fused " + 2 * LAYERS + " residual layer norms into SkipLayerNormalization"),
                result.changes().toString());
        assertTrue(result.model().proto().getOpsetImportList().stream().anyMatch(o -> o.getDomain().equals("com.microsoft")));
    }

    @Test
    void fusedGraphComputesTheSameAtEveryBatchAndSequenceLength() {
        OnnxModel original = TinyBert.model(LAYERS, HIDDEN, 4, 2);
        OnnxModel fused = fuse(original).model();
        SplittableRandom random = new SplittableRandom(7);
        try (OrtRunner before = OrtRunner.open(original); OrtRunner after = OrtRunner.open(fused)) {
            for (int[] size : new int[][] {{1, 1}, {1, 7}, {3, 16}, {2, 33}, {5, 64}}) {
                Map<String, TensorData> inputs = TinyBert.inputs(random, size[0], size[1]);
                float[] expected = before.run(inputs).get("last_hidden_state").toFloats();
                TensorData actual = after.run(inputs).get("last_hidden_state");
                assertEquals(List.of((long) size[0], (long) size[1], (long) HIDDEN),
                        Arrays.stream(actual.shape()).boxed().toList());
                assertClose(expected, actual.toFloats(), 2e-5, "batch " + size[0] + ", sequence " + size[1]);
            }
        }
    }

    @Test
    void tokenTypeEmbeddingsJoinTheFusedEmbeddingLayerAndComputeTheSame() {
        OnnxModel original = TinyBert.withTokenTypes(LAYERS, HIDDEN, 4, 5);
        PluginResult result = fuse(original);
        NodeProto embed = result.model().proto().getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("EmbedLayerNormalization")).findFirst().orElseThrow();
        assertEquals("com.microsoft", embed.getDomain());
        assertEquals(7, embed.getInputCount(), "no mask, no position ids: " + embed.getInputList());
        assertTrue(embed.getInput(2).startsWith("word_embeddings") && embed.getInput(4).startsWith("token_type_embeddings"),
                embed.getInputList().toString());
        assertTrue(result.model().proto().getGraph().getNodeList().stream().noneMatch(n -> n.getInputList()
                .contains(embed.getOutput(1))), "nothing reads mask_index: attention keeps its 2-D mask");
        assertEquals(0, opCounts(result.model()).getOrDefault("Gather", 0), opCounts(result.model()).toString());
        assertEquals(original.proto().getGraph().getInputList(), result.model().proto().getGraph().getInputList());
        SplittableRandom random = new SplittableRandom(9);
        try (OrtRunner before = OrtRunner.open(original); OrtRunner after = OrtRunner.open(result.model())) {
            for (int[] size : new int[][] {{1, 1}, {1, 7}, {3, 16}, {2, 33}, {5, 64}}) {
                Map<String, TensorData> inputs = TinyBert.inputsWithTokenTypes(random, size[0], size[1]);
                TensorData actual = after.run(inputs).get("last_hidden_state");
                assertEquals(List.of((long) size[0], (long) size[1], (long) HIDDEN),
                        Arrays.stream(actual.shape()).boxed().toList());
                assertClose(before.run(inputs).get("last_hidden_state").toFloats(), actual.toFloats(), 2e-5,
                        "batch " + size[0] + ", sequence " + size[1]);
            }
        }
    }

    @Test
    void positionIdsGivenAsAnInputKeepTheEmbeddingLayerUnfusedAndSayWhy() {
        OnnxModel original = TinyBert.withTokenTypes(1, HIDDEN, 4, 6);
        GraphProto graph = original.proto().getGraph();
        GraphProto.Builder edited = graph.toBuilder();
        for (int n = 0; n < graph.getNodeCount(); n++) {
            NodeProto node = graph.getNode(n);
            if (node.getOpType().equals("Gather") && node.getInput(0).startsWith("position_embeddings")) {
                edited.setNode(n, node.toBuilder().setInput(1, "position_ids"));
            }
        }
        edited.addInput(Nodes.tensorValue("position_ids", DataType.INT64, "batch_size", "sequence_length"));
        OnnxModel withPositions = original.withProto(original.proto().toBuilder().setGraph(edited).build());

        PluginResult result = fuse(withPositions);
        Map<String, Integer> ops = opCounts(result.model());
        assertEquals(0, ops.getOrDefault("com.microsoft.EmbedLayerNormalization", 0), ops.toString());
        assertEquals(3, ops.getOrDefault("com.microsoft.SkipLayerNormalization", 0), "the embedding norm as before: " + ops);
        assertEquals(0.0, result.figures().get("embed-layer-norm-fused"));
        assertTrue(result.skipped().stream().anyMatch(s -> s.part().startsWith("embedding layer norm")
                && s.reason().contains("other position ids do not fit")), result.skipped().toString());

        SplittableRandom random = new SplittableRandom(2);
        try (OrtRunner before = OrtRunner.open(withPositions); OrtRunner after = OrtRunner.open(result.model())) {
            for (int[] size : new int[][] {{1, 5}, {3, 12}}) {
                Map<String, TensorData> inputs = TinyBert.inputsWithTokenTypes(random, size[0], size[1]);
                long[] positions = new long[size[0] * size[1]];
                for (int i = 0; i < positions.length; i++) {
                    positions[i] = random.nextInt(64); // arbitrary positions, which EmbedLayerNormalization cannot take
                }
                inputs.put("position_ids", TensorData.ofLongs(new long[] {size[0], size[1]}, positions));
                assertClose(before.run(inputs).get("last_hidden_state").toFloats(),
                        after.run(inputs).get("last_hidden_state").toFloats(), 2e-5, "batch " + size[0]);
            }
        }
    }

    @Test
    void anOverridableTableOrAnotherTermInTheSumIsNamedAndLeftUnfused() {
        OnnxModel original = TinyBert.model(1, HIDDEN, 4, 8);
        GraphProto graph = original.proto().getGraph();
        NodeProto wordLookup = graph.getNodeList().stream().filter(n -> n.getOpType().equals("Gather")
                && n.getInput(0).startsWith("word_embeddings")).findFirst().orElseThrow();
        // the table is also a graph input: a caller may replace it, so it is no constant
        GraphProto overridable = graph.toBuilder().addInput(Nodes.tensorValue(wordLookup.getInput(0), DataType.FLOAT,
                TinyBert.VOCAB, HIDDEN)).build();
        // the word embeddings scaled before the sum, as some models do
        GraphProto.Builder scaled = graph.toBuilder();
        String word = wordLookup.getOutput(0);
        for (int n = 0; n < graph.getNodeCount(); n++) {
            NodeProto node = graph.getNode(n);
            if (node.getOpType().equals("Add") && node.getInputList().contains(word)) {
                scaled.setNode(n, node.toBuilder().setInput(node.getInputList().indexOf(word), "word_scaled"));
            }
        }
        scaled.addInitializer(io.modelpress.model.Tensors.scalarFloat("two", 2f))
                .addNode(Nodes.node("Mul", "scale_words", List.of(word, "two"), List.of("word_scaled")));
        Map<GraphProto, String> cases = Map.of(overridable, "embedding table '" + wordLookup.getInput(0) + "' is not a constant",
                Rewrite.tidy(scaled.build()), "Mul 'scale_words' is part of the sum");
        for (Map.Entry<GraphProto, String> misfit : cases.entrySet()) {
            OnnxModel model = original.withProto(original.proto().toBuilder().setGraph(misfit.getKey()).build());
            PluginResult result = fuse(model);
            assertEquals(0.0, result.figures().get("embed-layer-norm-fused"), misfit.getValue());
            assertTrue(result.skipped().stream().anyMatch(s -> s.reason().contains(misfit.getValue())),
                    result.skipped().toString());
            try (OrtRunner before = OrtRunner.open(model); OrtRunner after = OrtRunner.open(result.model())) {
                Map<String, TensorData> inputs = TinyBert.inputs(new SplittableRandom(3), 2, 11);
                assertClose(before.run(inputs).get("last_hidden_state").toFloats(),
                        after.run(inputs).get("last_hidden_state").toFloats(), 2e-5, misfit.getValue());
            }
        }
    }

    @Test
    void keepsTheSignatureAndItsDynamicAxes() {
        OnnxModel original = TinyBert.model(1, HIDDEN, 2, 3);
        GraphProto fused = fuse(original).model().proto().getGraph();
        assertEquals(original.proto().getGraph().getInputList(), fused.getInputList());
        assertEquals(original.proto().getGraph().getOutputList(), fused.getOutputList());
        assertEquals("sequence_length", fused.getOutput(0).getType().getTensorType().getShape().getDim(1).getDimParam());
    }

    @Test
    void leavesAGraphWithoutTransformerSubgraphsAsItIs() {
        OnnxModel mlp = TestModels.mlp(8, 16, 4, 7);
        PluginResult result = fuse(mlp);
        assertSame(mlp, result.model());
        assertEquals(List.of("nothing fused: no BERT-style attention, GELU, embedding or layer norm subgraph found"),
                result.changes());
    }

    @Test
    void leavesAttentionWhoseScoresAreReadElsewhere() {
        OnnxModel original = TinyBert.model(1, HIDDEN, 4, 4);
        GraphProto graph = original.proto().getGraph();
        String softmaxOut = graph.getNodeList().stream().filter(n -> n.getOpType().equals("Softmax")).findFirst()
                .orElseThrow().getOutput(0);
        OnnxModel exposed = original.withProto(original.proto().toBuilder().setGraph(graph.toBuilder()
                .addOutput(Nodes.tensorValue(softmaxOut, DataType.FLOAT,
                        "batch_size", 4, "sequence_length", "sequence_length"))).build());
        PluginResult result = fuse(exposed);
        assertEquals(0.0, result.figures().get("attention-fused"), "the probabilities are an output: nothing to fuse");
        assertTrue(result.skipped().stream().anyMatch(s -> s.part().startsWith("Softmax")), result.skipped().toString());
        try (OrtRunner before = OrtRunner.open(exposed); OrtRunner after = OrtRunner.open(result.model())) {
            Map<String, TensorData> inputs = TinyBert.inputs(new SplittableRandom(1), 2, 9);
            assertClose(before.run(inputs).get(softmaxOut).toFloats(), after.run(inputs).get(softmaxOut).toFloats(), 1e-6,
                    "probabilities");
        }
    }

    @Test
    void servesOnlyProvidersThatRunTheFusedOperators() {
        assertTrue(plugin.serves(profile("cpu")));
        assertTrue(plugin.serves(profile("cuda")));
        assertFalse(plugin.serves(profile("wasm")));
        assertFalse(plugin.serves(profile("xnnpack")));
    }

    static HardwareProfile profile(String provider) {
        HardwareProfile base = PluginTestContext.profile(QuantizedFormat.OPERATOR, Precision.FP32, Precision.INT8);
        return new HardwareProfile(base.id(), base.description(), base.precisions(), base.quantizedFormat(), provider,
                base.memoryBudgetBytes(), base.sizeBudgetBytes(), base.latencyBudgetMillis(), base.maxAccuracyDrop(),
                base.batchSize(), base.threads());
    }

    private PluginResult fuse(OnnxModel model) {
        return plugin.apply(model, PluginOptions.defaults(plugin.options()),
                PluginTestContext.in(Path.of(System.getProperty("java.io.tmpdir"))));
    }

    static Map<String, Integer> opCounts(OnnxModel model) {
        Map<String, Integer> counts = new HashMap<>();
        for (NodeProto node : model.proto().getGraph().getNodeList()) {
            counts.merge(node.getDomain().isEmpty() ? node.getOpType() : node.getDomain() + "." + node.getOpType(), 1,
                    Integer::sum);
        }
        return counts;
    }

    static void assertClose(float[] expected, float[] actual, double tolerance, String what) {
        assertEquals(expected.length, actual.length, what);
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]) / Math.max(1, Math.abs(expected[i])));
        }
        assertTrue(worst <= tolerance, what + ": largest difference " + worst);
    }
}

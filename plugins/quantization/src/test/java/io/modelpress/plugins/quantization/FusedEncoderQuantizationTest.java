package io.modelpress.plugins.quantization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.model.DataType;
import io.modelpress.model.OnnxModel;
import io.modelpress.plugins.fusion.TransformerFusionPlugin;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.QuantizedFormat;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.TinyBert;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The quantizer on an encoder the transformer-fusion step has fused: attention becomes QAttention,
 * the embedding layer's tables are stored in int8.
 */
class FusedEncoderQuantizationTest {

    private static final int LAYERS = 2;

    @Test
    void fusedAttentionBecomesQAttentionAndTheFfnIntegerMatMuls() throws Exception {
        OnnxModel original = TinyBert.model(LAYERS, 64, 4, 11);
        PluginResult result = fuseThenQuantize(original);
        OnnxModel quantized = result.model();

        assertEquals(List.of("com.microsoft", "com.microsoft"), Models.domainsOf(quantized, "QAttention"));
        assertEquals(0, Models.count(quantized, "Attention"), "every attention runs its projection in int8");
        assertEquals(3 * LAYERS, Models.count(quantized, "MatMulInteger"), "output, FFN up and FFN down per layer");
        assertEquals(2 * LAYERS, Models.count(quantized, "SkipLayerNormalization"), "the fusions stay");
        assertEquals(1, Models.count(quantized, "EmbedLayerNormalization"), "the fusions stay");
        assertEquals(LAYERS, Models.count(quantized, "BiasGelu"));
        assertTrue(result.figures().get("size-ratio") > 2.5, result.figures().toString());

        SplittableRandom random = new SplittableRandom(3);
        List<Map<String, TensorData>> samples = new ArrayList<>();
        for (int[] size : new int[][] {{1, 5}, {2, 17}, {4, 40}}) {
            samples.add(TinyBert.inputs(random, size[0], size[1]));
        }
        // int8 activations and weights against the unfused fp32 original, at several batch and sequence lengths
        Models.assertClose(original, quantized, samples, 0.99);
    }

    @Test
    void theFusedEmbeddingLayersTablesAreStoredInInt8() throws Exception {
        OnnxModel original = TinyBert.withTokenTypes(LAYERS, 64, 4, 13);
        PluginResult result = fuseThenQuantize(original);
        GraphProto graph = result.model().proto().getGraph();

        NodeProto embed = graph.getNodeList().stream().filter(n -> n.getOpType().equals("EmbedLayerNormalization"))
                .findFirst().orElseThrow();
        // word and position tables: int8 per row on disk, read through Cast and Mul (folded at load); the
        // two-row token-type table is below the size worth quantizing, as it was under a Gather
        assertTrue(embed.getInput(4).startsWith("token_type_embeddings"), embed.getInputList().toString());
        for (int input : new int[] {2, 3}) {
            String table = embed.getInput(input);
            assertTrue(graph.getInitializerList().stream().noneMatch(t -> t.getName().equals(table)),
                    "table '" + table + "' is still a float initializer");
            TensorProto stored = storedUnder(graph, table);
            assertEquals(DataType.INT8.code(), stored.getDataType(), table + " is stored as " + stored.getDataType());
            assertEquals(64L, stored.getDims(1), table);
        }
        assertTrue(result.figures().get("size-ratio") > 3, result.figures().toString());
        assertTrue(result.changes().contains("2 int8 tables read by EmbedLayerNormalization through Cast and Mul (folded to"
                + " float at load: no memory saving; leave embeddings unfused for that)"), result.changes().toString());

        SplittableRandom random = new SplittableRandom(4);
        List<Map<String, TensorData>> samples = new ArrayList<>();
        for (int[] size : new int[][] {{1, 5}, {2, 17}, {4, 40}}) {
            samples.add(TinyBert.inputsWithTokenTypes(random, size[0], size[1]));
        }
        Models.assertClose(original, result.model(), samples, 0.99);
    }

    @Test
    void withTheEmbeddingsUnfusedTheirTablesAreGatheredInInt8() throws Exception {
        OnnxModel original = TinyBert.withTokenTypes(LAYERS, 64, 4, 14);
        PluginResult result = fuseThenQuantize(original, Map.of("embed-layer-norm", "false"));
        GraphProto graph = result.model().proto().getGraph();

        assertEquals(0, Models.count(result.model(), "EmbedLayerNormalization"));
        assertEquals(LAYERS, Models.count(result.model(), "QAttention"), "the other fusions stay");
        // word and position tables: int8 rows gathered, then cast and scaled; no Cast reads a stored table
        assertTrue(result.changes().stream().anyMatch(c -> c.startsWith("2 int8 embedding tables gathered in int8")),
                result.changes().toString());
        List<String> tables = graph.getInitializerList().stream().filter(t -> t.getDataType() == DataType.INT8.code())
                .map(TensorProto::getName).filter(name -> name.contains("embeddings")).toList();
        assertEquals(2, tables.size(), tables.toString());
        for (String table : tables) {
            List<NodeProto> readers = graph.getNodeList().stream().filter(n -> n.getInputList().contains(table)).toList();
            assertTrue(!readers.isEmpty() && readers.stream().allMatch(n -> n.getOpType().equals("Gather")), table + ": " + readers);
        }
        assertTrue(graph.getNodeList().stream().filter(n -> n.getOpType().equals("Cast"))
                .noneMatch(n -> graph.getInitializerList().stream().anyMatch(t -> t.getName().equals(n.getInput(0)))));

        SplittableRandom random = new SplittableRandom(6);
        List<Map<String, TensorData>> samples = new ArrayList<>();
        for (int[] size : new int[][] {{1, 5}, {2, 17}, {4, 40}}) {
            samples.add(TinyBert.inputsWithTokenTypes(random, size[0], size[1]));
        }
        Models.assertClose(original, result.model(), samples, 0.99);
    }

    /** The initializer a dequantized weight is computed from: Mul(Cast(q) [- zero point], scale) back to the Cast's input. */
    private static TensorProto storedUnder(GraphProto graph, String value) {
        String current = value;
        for (int hop = 0; hop < 4; hop++) {
            String name = current;
            Optional<TensorProto> initializer = graph.getInitializerList().stream().filter(t -> t.getName().equals(name))
                    .findFirst();
            if (initializer.isPresent()) {
                return initializer.get();
            }
            NodeProto producer = graph.getNodeList().stream().filter(n -> n.getOutputList().contains(name)).findFirst()
                    .orElseThrow(() -> new AssertionError("nothing makes '" + name + "'"));
            assertTrue(List.of("Mul", "Sub", "Cast").contains(producer.getOpType()), producer.toString());
            current = producer.getInput(0);
        }
        throw new AssertionError("no stored table under '" + value + "'");
    }

    @Test
    void smoothingFoldsIntoTheFusedAttentionsValueColumns() throws Exception {
        OnnxModel original = TinyBert.model(LAYERS, 64, 4, 12);
        TransformerFusionPlugin fusion = new TransformerFusionPlugin();
        OnnxModel fused = fusion.apply(original, PluginOptions.defaults(fusion.options()),
                Models.context(QuantizedFormat.OPERATOR)).model();
        SplittableRandom random = new SplittableRandom(5);
        List<Map<String, TensorData>> calibration = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            calibration.add(TinyBert.inputs(random, 2, 12));
        }
        Int8DynamicPlugin int8 = new Int8DynamicPlugin();
        PluginResult result = int8.apply(fused, PluginOptions.resolve(int8.options(),
                Map.of("format", "operator", "smooth", "0.7", "smooth-outlier-ratio", "1")),
                Models.context(QuantizedFormat.OPERATOR).withCalibration(io.modelpress.spi.CalibrationData.of(calibration)));

        String line = result.changes().stream().filter(c -> c.contains("smoothed")).findFirst().orElseThrow();
        // per layer: QKV input and FFN-up input (layer norm outputs the residual also reads: a Mul), attention output
        // (folded into the value columns of the packed weight) and FFN-down input (a GELU's output: a Mul)
        assertTrue(line.contains("in the node making it (" + LAYERS + ")"), line);
        assertEquals(LAYERS, Models.count(result.model(), "QAttention"));
        List<Map<String, TensorData>> held = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            held.add(TinyBert.inputs(random, 3, 20));
        }
        Models.assertClose(original, result.model(), held, 0.99);
    }

    /** The fusion step (by default with the embedding fusion), then int8 dynamic in operator format. */
    private static PluginResult fuseThenQuantize(OnnxModel original) throws Exception {
        return fuseThenQuantize(original, Map.of());
    }

    private static PluginResult fuseThenQuantize(OnnxModel original, Map<String, String> fusionOptions) throws Exception {
        TransformerFusionPlugin fusion = new TransformerFusionPlugin();
        OnnxModel fused = fusion.apply(original, PluginOptions.resolve(fusion.options(), fusionOptions),
                Models.context(QuantizedFormat.OPERATOR)).model();
        Int8DynamicPlugin int8 = new Int8DynamicPlugin();
        return int8.apply(fused, PluginOptions.resolve(int8.options(), Map.of("format", "operator")),
                Models.context(QuantizedFormat.OPERATOR));
    }
}

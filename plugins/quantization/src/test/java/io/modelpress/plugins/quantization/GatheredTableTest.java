package io.modelpress.plugins.quantization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.inference.OrtRunner;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.QuantizedFormat;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.TestModels;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * An embedding table read only by Gathers on axis 0 is written as "gather, then dequantize": the
 * session keeps the int8 table (a Cast and Mul on the whole table would be folded to a float copy
 * at load) and each lookup gives exactly the values the Cast and Mul form gives.
 */
class GatheredTableTest {

    private static final int ROWS = 3000;
    private static final int WIDTH = 64;
    /** Rank-1 ids, with negative ones (counted from the end, as Gather allows) and both ends of the table. */
    private static final long[] IDS = {5, -1, ROWS - 1, 0, -ROWS, 1234};
    /** Rank-2 ids, [2, 3]. */
    private static final long[] PAIRS = {1, 2, 3, -2, 7, ROWS - 2};

    private final Int8DynamicPlugin plugin = new Int8DynamicPlugin();

    @Test
    void aSymmetricTableIsGatheredInInt8AndDequantizedAfterTheLookup() throws Exception {
        checkGathered(Map.of("format", "operator"), false);
    }

    @Test
    void anAsymmetricTableGathersItsZeroPointsWithTheSameIds() throws Exception {
        checkGathered(Map.of("format", "operator", "symmetric", "false"), true);
    }

    @Test
    void aTableAnotherOperatorReadsKeepsTheCastAndMulForm() throws Exception {
        GraphProto graph = lookups(21).proto().getGraph().toBuilder()
                .addInput(Nodes.tensorValue("columns", DataType.INT64, "m"))
                .addNode(Nodes.node("Gather", "by_column", List.of("table", "columns"), List.of("column_values"),
                        Nodes.attr("axis", 1L)))
                .addOutput(Nodes.tensorValue("column_values", DataType.FLOAT, ROWS, "m"))
                .build();
        PluginResult result = quantize(TestModels.model(graph), Map.of("format", "operator"));
        GraphProto quantized = result.model().proto().getGraph();

        Set<String> initializers = new HashSet<>();
        quantized.getInitializerList().forEach(t -> initializers.add(t.getName()));
        assertTrue(quantized.getNodeList().stream().anyMatch(n -> n.getOpType().equals("Cast")
                && initializers.contains(n.getInput(0))), "the whole table is cast: " + quantized.getNodeList());
        assertTrue(result.changes().stream().noneMatch(c -> c.contains("gathered in int8")), result.changes().toString());
    }

    private void checkGathered(Map<String, String> options, boolean zeroPoints) throws Exception {
        OnnxModel original = lookups(20);
        PluginResult result = quantize(original, options);
        GraphProto graph = result.model().proto().getGraph();

        TensorProto table = graph.getInitializerList().stream().filter(t -> t.getDataType() == DataType.INT8.code())
                .findFirst().orElseThrow(() -> new AssertionError("no int8 table in " + graph.getInitializerList()));
        assertEquals(List.of((long) ROWS, (long) WIDTH), table.getDimsList());
        List<NodeProto> readers = graph.getNodeList().stream().filter(n -> n.getInputList().contains(table.getName())).toList();
        assertEquals(2, readers.size(), readers.toString());
        assertTrue(readers.stream().allMatch(n -> n.getOpType().equals("Gather") && n.getInput(0).equals(table.getName())),
                "the int8 table is read by Gathers: " + readers);
        assertNothingConstantIsComputed(graph);
        assertEquals(zeroPoints, graph.getNodeList().stream().anyMatch(n -> n.getOpType().equals("Sub")));
        assertTrue(result.changes().stream().anyMatch(c -> c.startsWith("1 int8 embedding tables gathered in int8")),
                result.changes().toString());

        // the values the Cast and Mul form computes, row by row, from what the model stores
        float[] values = Tensors.toFloats(table);
        float[] scales = Tensors.toFloats(initializer(graph, "table_scale"));
        float[] zeros = zeroPoints ? Tensors.toFloats(initializer(graph, "table_zero_point")) : new float[ROWS];
        assertEquals(ROWS, scales.length, "one scale per row");
        Map<String, TensorData> inputs = Map.of("ids", TensorData.ofLongs(new long[] {IDS.length}, IDS),
                "pairs", TensorData.ofLongs(new long[] {2, 3}, PAIRS));
        try (OrtRunner runner = OrtRunner.open(result.model())) {
            Map<String, TensorData> outputs = runner.run(inputs);
            assertEquals(List.of((long) IDS.length, (long) WIDTH), longs(outputs.get("rows").shape()));
            assertEquals(List.of(2L, 3L, (long) WIDTH), longs(outputs.get("grid").shape()));
            assertRows(IDS, outputs.get("rows").toFloats(), values, scales, zeros);
            assertRows(PAIRS, outputs.get("grid").toFloats(), values, scales, zeros);
        }
        Models.assertClose(original, result.model(), List.of(inputs), 0.999);
    }

    /** A [ROWS, WIDTH] table read by two Gathers: one with ids of rank 1, one with ids of rank 2. */
    private static OnnxModel lookups(long seed) {
        GraphProto graph = GraphProto.newBuilder().setName("lookups")
                .addInitializer(TestModels.floats("table", new SplittableRandom(seed), ROWS, WIDTH))
                .addInput(Nodes.tensorValue("ids", DataType.INT64, "n"))
                .addInput(Nodes.tensorValue("pairs", DataType.INT64, "batch", "length"))
                .addNode(Nodes.node("Gather", "lookup", List.of("table", "ids"), List.of("rows")))
                .addNode(Nodes.node("Gather", "lookup_pairs", List.of("table", "pairs"), List.of("grid")))
                .addOutput(Nodes.tensorValue("rows", DataType.FLOAT, "n", WIDTH))
                .addOutput(Nodes.tensorValue("grid", DataType.FLOAT, "batch", "length", WIDTH))
                .build();
        return TestModels.model(graph);
    }

    private PluginResult quantize(OnnxModel model, Map<String, String> options) throws Exception {
        return plugin.apply(model, PluginOptions.resolve(plugin.options(), options), Models.context(QuantizedFormat.OPERATOR));
    }

    /** No Cast, Sub or Mul whose inputs are all constant: ONNX Runtime would fold it to a float tensor at load. */
    private static void assertNothingConstantIsComputed(GraphProto graph) {
        Set<String> constant = new HashSet<>();
        graph.getInitializerList().forEach(t -> constant.add(t.getName()));
        for (NodeProto node : graph.getNodeList()) {
            if (node.getInputCount() > 0 && constant.containsAll(node.getInputList())) {
                assertTrue(!List.of("Cast", "Sub", "Mul").contains(node.getOpType()), "folded at load: " + node);
                constant.addAll(node.getOutputList());
            }
        }
    }

    private static TensorProto initializer(GraphProto graph, String name) {
        return graph.getInitializerList().stream().filter(t -> t.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no initializer '" + name + "'"));
    }

    private static void assertRows(long[] ids, float[] actual, float[] values, float[] scales, float[] zeros) {
        for (int i = 0; i < ids.length; i++) {
            int row = (int) (ids[i] < 0 ? ids[i] + ROWS : ids[i]);
            for (int c = 0; c < WIDTH; c++) {
                float expected = (values[row * WIDTH + c] - zeros[row]) * scales[row];
                assertEquals(expected, actual[i * WIDTH + c], Math.ulp(expected), "id " + ids[i] + ", column " + c);
            }
        }
    }

    private static List<Long> longs(long[] values) {
        return java.util.Arrays.stream(values).boxed().toList();
    }
}

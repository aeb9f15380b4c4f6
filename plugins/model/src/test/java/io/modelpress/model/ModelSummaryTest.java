package io.modelpress.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelSummaryTest {

    @TempDir
    Path dir;

    /**
     * {@link TestGraphs#scoped} with a symbolic batch dim, an unnamed dim, a contrib operator and
     * an initializer that is also listed as a graph input (a default value, as IR 3 models have).
     */
    private static ModelProto model() {
        ModelProto scoped = TestGraphs.scoped();
        TensorShapeProto.Builder unnamed = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
                .addDim(TensorShapeProto.Dimension.newBuilder()); // neither value nor name
        ValueInfoProto extra = ValueInfoProto.newBuilder().setName("extra")
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                        .setElemType(DataType.FLOAT.code()).setShape(unnamed)))
                .build();
        GraphProto graph = scoped.getGraph().toBuilder()
                .setInput(0, Nodes.tensorValue("x", DataType.FLOAT, "batch", 8))
                .addInput(extra)
                .addInput(Nodes.tensorValue("w_default", DataType.FLOAT16, 2))
                .addInitializer(Tensors.ofFloat16("w_default", new long[] {2}, new float[] {1, 2}))
                .addOutput(Nodes.tensorValue("fused", DataType.FLOAT, "batch", "n"))
                .addNode(NodeProto.newBuilder(Nodes.node("FusedMatMul", "fused", List.of("x", "w"), List.of("fused")))
                        .setDomain("com.microsoft"))
                .build();
        return scoped.toBuilder()
                .setGraph(graph)
                .setProducerVersion("1.2")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("com.microsoft").setVersion(1))
                .build();
    }

    @Test
    void countsIncludeSubgraphs() {
        ModelSummary summary = OnnxModel.of(model()).summary();
        assertEquals(8, summary.irVersion());
        assertEquals(Map.of("ai.onnx", 17L, "com.microsoft", 1L), summary.opsets());
        assertEquals("modelpress-model-tests 1.2", summary.producer());
        assertEquals(Map.of("MatMul", 6, "Constant", 3, "Add", 2, "Identity", 2, "If", 2, "Loop", 1,
                "com.microsoft.FusedMatMul", 1), summary.operators());
        List<Integer> counts = new ArrayList<>(summary.operators().values());
        for (int i = 1; i < counts.size(); i++) {
            assertTrue(counts.get(i - 1) >= counts.get(i), "most frequent first: " + summary.operators());
        }
        assertEquals("MatMul", summary.operators().keySet().iterator().next());
        assertEquals(17, summary.nodes());
        assertEquals(5, summary.subgraphs(), "two If with two branches each, one Loop body");
    }

    @Test
    void fourBitWeightsPackedInBytesCountAsTheValuesTheyHold() {
        // MatMulNBits: 8 output columns, K = 32 in one block of 32 four-bit values, 16 bytes each, one scale per block
        TensorProto packed = TensorProto.newBuilder().setName("w_q").setDataType(DataType.UINT8.code())
                .addAllDims(List.of(8L, 1L, 16L)).setRawData(com.google.protobuf.ByteString.copyFrom(new byte[8 * 16])).build();
        GraphProto graph = GraphProto.newBuilder().setName("int4")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", 32))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", 8))
                .addInitializer(packed)
                .addInitializer(Tensors.ofFloats("w_scales", new long[] {8}, new float[8]))
                .addNode(NodeProto.newBuilder(Nodes.node("MatMulNBits", "mm", List.of("x", "w_q", "w_scales"), List.of("y"),
                        Nodes.attr("K", 32), Nodes.attr("N", 8), Nodes.attr("bits", 4), Nodes.attr("block_size", 32)))
                        .setDomain("com.microsoft"))
                .build();
        ModelProto proto = TestGraphs.scoped().toBuilder().setGraph(graph)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("com.microsoft").setVersion(1)).build();

        ModelSummary summary = OnnxModel.of(proto).summary();

        assertEquals(8 * 32 + 8, summary.parameters(), "the 256 weights of the 32x8 layer and its 8 scales, not 128 bytes");
        assertEquals(8 * 16 + 8 * 4, summary.weightBytes());
        assertEquals(new ModelSummary.TypeTotal(1, 8 * 32, 8 * 16), summary.byType().get("uint8"));
    }

    @Test
    void parametersAndBytesByType() {
        ModelSummary summary = OnnxModel.of(model()).summary();
        assertEquals(Map.of(
                "float", new ModelSummary.TypeTotal(6, 64 * 3 + 8 * 3, (64 * 3 + 8 * 3) * 4),
                "int8", new ModelSummary.TypeTotal(1, 16, 16),
                "float16", new ModelSummary.TypeTotal(1, 2, 4)), summary.byType());
        assertEquals(64 * 3 + 8 * 3 + 16 + 2, summary.parameters());
        assertEquals((64 * 3 + 8 * 3) * 4 + 16 + 4, summary.weightBytes());
        assertEquals(8, summary.weights().size());
        for (int i = 1; i < summary.weights().size(); i++) {
            assertTrue(summary.weights().get(i - 1).bytes() >= summary.weights().get(i).bytes(), "largest first");
        }
        ModelSummary.WeightEntry elseShared = summary.weights().stream()
                .filter(w -> w.graph().equals("main/branch.else_branch") && w.name().equals("shared"))
                .findFirst().orElseThrow();
        assertEquals(new ModelSummary.WeightEntry("shared", "main/branch.else_branch", "initializer", "float",
                List.of(8L, 8L), 64, 256), elseShared);
        assertTrue(summary.weights().stream().anyMatch(w -> w.name().equals("cbias") && w.storage().equals("constant_node")));
    }

    @Test
    void inputsAndOutputsKeepSymbolicDims() throws Exception {
        OnnxModel model = OnnxModel.of(model());
        ModelSummary summary = model.summary();
        assertEquals(List.of(
                new ModelSummary.Value("x", "float", List.of("batch", "8")),
                new ModelSummary.Value("flag", "bool", List.of()),
                new ModelSummary.Value("trip", "int64", List.of()),
                new ModelSummary.Value("extra", "float", List.of("batch", "?"))), summary.inputs(),
                "an input with an initializer is a weight, not an input");
        assertEquals(List.of(
                new ModelSummary.Value("y", "float", List.of("1", "8")),
                new ModelSummary.Value("h_final", "float", List.of("1", "8")),
                new ModelSummary.Value("fused", "float", List.of("batch", "n"))), summary.outputs());

        Path file = dir.resolve("model.onnx");
        model.save(file, SaveOptions.external("model.data"));
        assertEquals(summary, OnnxModel.load(file).summary(), "the same summary after a save and load");
    }
}

package io.modelpress.plugins.fp16;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.modelpress.inference.OrtRunner;
import io.modelpress.model.DataType;
import io.modelpress.model.ModelException;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The bfloat16 table claims ONNX admits bfloat16 for each operator from a given opset. ONNX
 * Runtime checks types against the ONNX schemas when it loads a model, before it looks for
 * kernels, so a one-node model at that opset must fail (if at all) for want of a kernel, never
 * as an invalid graph.
 */
class OpSupportTest {

    @Test
    void everyBfloat16EntryTypeChecksAtItsOpset() {
        Map<String, String> problems = new TreeMap<>();
        OpSupport.bfloat16Since().forEach((op, opset) -> probe(op, opset, DataType.BFLOAT16)
                .ifPresent(problem -> problems.put(op + "@" + opset, problem)));
        assertEquals(Map.of(), problems);
    }

    @Test
    void theProbeNoticesAnOpsetThatIsTooOld() {
        Optional<String> problem = probe("Relu", 12, DataType.BFLOAT16);
        assertTrue(problem.isPresent() && problem.get().contains("ORT_INVALID_GRAPH"), problem.toString());
    }

    @Test
    void float16ElementwiseOperatorsLoadAtOldOpsets() {
        Map<String, String> problems = new TreeMap<>();
        for (String op : List.of("Add", "Mul", "Sub", "Div", "Relu", "Sigmoid", "Tanh", "Softmax", "MatMul", "Gemm",
                "Transpose", "Identity", "Flatten", "Max", "Min", "Sum", "Pow", "Sqrt", "Exp", "Erf", "HardSigmoid",
                "LeakyRelu", "Clip", "ReduceMean", "Abs", "Neg", "Reciprocal", "Floor", "Ceil", "Log")) {
            assertTrue(OpSupport.float16Operators().contains(op), op);
            probe(op, 11, DataType.FLOAT16).ifPresent(problem -> problems.put(op, problem));
        }
        assertEquals(Map.of(), problems);
    }

    @Test
    void controlFlowAndForeignDomainsAreJudgedApart() {
        NodeProto contrib = Nodes.node("FusedConv", "fused", List.of("x"), List.of("y")).toBuilder()
                .setDomain("com.microsoft").build();
        assertEquals(Optional.of("operators of domain 'com.microsoft' are not converted"),
                OpSupport.unsupported(contrib, HalfType.FP16, 17));
        NodeProto range = Nodes.node("Range", "r", List.of("a", "b", "c"), List.of("y"));
        assertEquals(Optional.of("ONNX's Range has no half-precision type"), OpSupport.unsupported(range, HalfType.FP16, 17));
        NodeProto conv = Nodes.node("Conv", "c", List.of("x", "w"), List.of("y"));
        assertFalse(OpSupport.unsupported(conv, HalfType.FP16, 9).isPresent());
        assertTrue(OpSupport.unsupported(conv, HalfType.BF16, 21).isPresent(), "no bfloat16 Conv kernel in ONNX Runtime");
        NodeProto add = Nodes.node("Add", "a", List.of("x", "y"), List.of("z"));
        assertEquals(Optional.of("ONNX admits bfloat16 for Add only from opset 13; the model uses opset 11"),
                OpSupport.unsupported(add, HalfType.BF16, 11));
    }

    /** Empty when ONNX Runtime accepts the graph's types (it may still lack a kernel); otherwise its error. */
    private static Optional<String> probe(String op, int opset, DataType type) {
        GraphProto.Builder graph = GraphProto.newBuilder().setName("probe");
        graph.addInput(Nodes.tensorValue("x", type, 1, 4));
        List<String> inputs = new ArrayList<>(List.of("x"));
        List<String> outputs = new ArrayList<>(List.of("y"));
        List<AttributeProto> attributes = new ArrayList<>();
        switch (op) {
            case "Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Pow" -> {
                graph.addInput(Nodes.tensorValue("x2", type, 1, 4));
                inputs.add("x2");
            }
            case "MatMul", "Gemm" -> {
                graph.addInput(Nodes.tensorValue("w", type, 4, 4));
                inputs.add("w");
            }
            case "LayerNormalization" -> {
                graph.addInput(Nodes.tensorValue("scale", type, 4));
                inputs.add("scale");
            }
            case "Cast" -> {
                graph.setInput(0, Nodes.tensorValue("x", DataType.FLOAT, 1, 4));
                attributes.add(Nodes.attr("to", (long) type.code()));
            }
            case "CastLike" -> {
                graph.setInput(0, Nodes.tensorValue("x", DataType.FLOAT, 1, 4));
                graph.addInput(Nodes.tensorValue("like", type, 1));
                inputs.add("like");
            }
            case "Reshape" -> ints(graph, inputs, "shape", 4, 1);
            case "Squeeze", "Unsqueeze" -> ints(graph, inputs, "axes", 0);
            case "Slice" -> {
                ints(graph, inputs, "starts", 0);
                ints(graph, inputs, "ends", 2);
                ints(graph, inputs, "axes", 1);
            }
            case "Gather" -> ints(graph, inputs, "indices", 0);
            case "GatherElements" -> {
                graph.addInitializer(Tensors.ofInt64("positions", new long[] {1, 4}, new long[4]));
                inputs.add("positions");
            }
            case "Expand" -> ints(graph, inputs, "to_shape", 2, 4);
            case "Concat" -> attributes.add(Nodes.attr("axis", 0L));
            case "Split" -> {
                attributes.add(Nodes.attr("axis", 1L));
                outputs.add("y2");
            }
            case "Clip" -> {
                if (opset < 11) {
                    attributes.add(Nodes.attr("min", 0f));
                }
            }
            case "If" -> {
                graph.setInput(0, Nodes.tensorValue("x", DataType.BOOL));
                graph.addInput(Nodes.tensorValue("v", type, 1, 4));
                GraphProto branch = GraphProto.newBuilder().setName("branch")
                        .addOutput(ValueInfoProto.newBuilder().setName("b").build())
                        .addNode(Nodes.node("Identity", "pass", List.of("v"), List.of("b"))).build();
                attributes.add(Nodes.attr("then_branch", branch));
                attributes.add(Nodes.attr("else_branch", branch));
            }
            default -> {
            }
        }
        graph.addNode(Nodes.node(op, "probe", inputs, outputs, attributes.toArray(new AttributeProto[0])));
        outputs.forEach(name -> graph.addOutput(ValueInfoProto.newBuilder().setName(name)));
        ModelProto model = ModelProto.newBuilder().setIrVersion(8)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
                .setGraph(graph).build();
        try {
            OrtRunner.open(OnnxModel.of(model)).close();
            return Optional.empty();
        } catch (ModelException e) {
            return e.getMessage().contains("ORT_NOT_IMPLEMENTED") ? Optional.empty() : Optional.of(e.getMessage());
        }
    }

    private static void ints(GraphProto.Builder graph, List<String> inputs, String name, long... values) {
        graph.addInitializer(Tensors.ofInt64(name, new long[] {values.length}, values));
        inputs.add(name);
    }
}

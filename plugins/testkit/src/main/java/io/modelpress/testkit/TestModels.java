package io.modelpress.testkit;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.spi.TensorData;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Small models built in code, each exact and quick to run: the shapes real exporters produce
 * (Gemm and MatMul layers, Constant-node weights, If subgraphs, Conv with BatchNorm).
 */
public final class TestModels {

    public static final int OPSET = 17;

    private TestModels() {
    }

    /**
     * x f32[batch, in] → Gemm → Relu → MatMul → Add → y f32[batch, out]. Also holds an unused
     * initializer and a dead Identity node, as exported graphs often do.
     */
    public static OnnxModel mlp(int in, int hidden, int out, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        GraphProto graph = GraphProto.newBuilder()
                .setName("mlp")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", in))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", out))
                .addInitializer(floats("w1", random, in, hidden))
                .addInitializer(floats("b1", random, hidden))
                .addInitializer(floats("w2", random, hidden, out))
                .addInitializer(floats("b2", random, out))
                .addInitializer(floats("unused_weight", random, 16, 16))
                .addNode(Nodes.node("Gemm", "fc1", List.of("x", "w1", "b1"), List.of("h")))
                .addNode(Nodes.node("Relu", "relu1", List.of("h"), List.of("a")))
                .addNode(Nodes.node("MatMul", "fc2", List.of("a", "w2"), List.of("z")))
                .addNode(Nodes.node("Add", "fc2_bias", List.of("z", "b2"), List.of("y")))
                .addNode(Nodes.node("Identity", "dead_branch", List.of("unused_weight"), List.of("never_read")))
                .build();
        return model(graph);
    }

    /** The same network as {@link #mlp} with every weight held by a Constant node instead of an initializer. */
    public static OnnxModel mlpWithConstantNodes(int in, int hidden, int out, long seed) {
        GraphProto source = mlp(in, hidden, out, seed).proto().getGraph();
        GraphProto.Builder graph = source.toBuilder().clearInitializer().clearNode();
        for (TensorProto weight : source.getInitializerList()) {
            graph.addNode(Nodes.node("Constant", weight.getName() + "_const", List.of(), List.of(weight.getName()),
                    Nodes.attr("value", weight.toBuilder().clearName().build())));
        }
        graph.addAllNode(source.getNodeList());
        return model(graph.build());
    }

    /** A sample for a model with inputs x and flag, such as {@link #withIfSubgraph}: {@code flag} picks the branch. */
    public static Map<String, TensorData> ifSample(TensorData x, boolean flag) {
        return Map.of("x", x, "flag", RealInputs.bool(flag));
    }

    /**
     * x f32[1, in], flag bool[] → If(flag: MatMul with the outer weight w; else: MatMul with a
     * weight of the branch's own) → y f32[1, out]. Weights live in the main graph, a branch's
     * initializers and a branch's Constant node.
     */
    public static OnnxModel withIfSubgraph(int in, int out, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        GraphProto thenBranch = GraphProto.newBuilder()
                .setName("then")
                .addOutput(Nodes.tensorValue("then_y", DataType.FLOAT, 1, out))
                .addNode(Nodes.node("MatMul", "then_matmul", List.of("x", "w"), List.of("then_y")))
                .build();
        GraphProto elseBranch = GraphProto.newBuilder()
                .setName("else")
                .addOutput(Nodes.tensorValue("else_y", DataType.FLOAT, 1, out))
                .addInitializer(floats("else_w", random, in, out))
                .addNode(Nodes.node("Constant", "else_bias_const", List.of(), List.of("else_b"),
                        Nodes.attr("value", floats("", random, out))))
                .addNode(Nodes.node("MatMul", "else_matmul", List.of("x", "else_w"), List.of("else_z")))
                .addNode(Nodes.node("Add", "else_add", List.of("else_z", "else_b"), List.of("else_y")))
                .build();
        GraphProto graph = GraphProto.newBuilder()
                .setName("branching")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, 1, in))
                .addInput(Nodes.tensorValue("flag", DataType.BOOL))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, 1, out))
                .addInitializer(floats("w", random, in, out))
                .addNode(Nodes.node("If", "branch", List.of("flag"), List.of("y"),
                        Nodes.attr("then_branch", thenBranch), Nodes.attr("else_branch", elseBranch)))
                .build();
        return model(graph);
    }

    /** x f32[batch, 3, 16, 16] → Conv → BatchNormalization → Relu → GlobalAveragePool → Flatten → Gemm → y f32[batch, classes]. */
    public static OnnxModel cnn(int channels, int classes, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] variance = new float[channels];
        for (int c = 0; c < channels; c++) {
            variance[c] = 0.5f + (float) random.nextDouble();
        }
        GraphProto graph = GraphProto.newBuilder()
                .setName("cnn")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", 3, 16, 16))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", classes))
                .addInitializer(floats("conv_w", random, channels, 3, 3, 3))
                .addInitializer(floats("conv_b", random, channels))
                .addInitializer(floats("bn_scale", random, channels))
                .addInitializer(floats("bn_bias", random, channels))
                .addInitializer(floats("bn_mean", random, channels))
                .addInitializer(Tensors.ofFloats("bn_var", new long[] {channels}, variance))
                .addInitializer(floats("fc_w", random, channels, classes))
                .addInitializer(floats("fc_b", random, classes))
                .addNode(Nodes.node("Conv", "conv", List.of("x", "conv_w", "conv_b"), List.of("c"),
                        Nodes.attr("pads", new long[] {1, 1, 1, 1})))
                .addNode(Nodes.node("BatchNormalization", "bn",
                        List.of("c", "bn_scale", "bn_bias", "bn_mean", "bn_var"), List.of("n")))
                .addNode(Nodes.node("Relu", "relu", List.of("n"), List.of("r")))
                .addNode(Nodes.node("GlobalAveragePool", "pool", List.of("r"), List.of("p")))
                .addNode(Nodes.node("Flatten", "flatten", List.of("p"), List.of("f")))
                .addNode(Nodes.node("Gemm", "fc", List.of("f", "fc_w", "fc_b"), List.of("y")))
                .build();
        return model(graph);
    }

    /** A model already quantized: int8 weights [64, 16] dequantized in front of a MatMul, then a float bias. */
    public static OnnxModel int8MatMul() {
        byte[] values = new byte[64 * 16];
        for (int i = 0; i < values.length; i++) {
            values[i] = (byte) (i * 37 % 255 - 127);
        }
        GraphProto graph = GraphProto.newBuilder().setName("quantized")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", 64))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", 16))
                .addInitializer(Tensors.ofBytes("w_q", DataType.INT8, new long[] {64, 16}, values))
                .addInitializer(Tensors.scalarFloat("w_scale", 0.01f))
                .addInitializer(floats("bias", new SplittableRandom(3), 16))
                .addNode(Nodes.node("DequantizeLinear", "dequantize", List.of("w_q", "w_scale"), List.of("w")))
                .addNode(Nodes.node("MatMul", "project", List.of("x", "w"), List.of("h")))
                .addNode(Nodes.node("Add", "shift", List.of("h", "bias"), List.of("y")))
                .build();
        return model(graph);
    }

    /** Wraps a graph in a model at {@link #OPSET}. */
    public static OnnxModel model(GraphProto graph) {
        return OnnxModel.of(ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("modelpress-tests")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(graph)
                .build());
    }

    /** A float tensor of uniform values in [-0.5, 0.5). */
    public static TensorProto floats(String name, SplittableRandom random, long... dims) {
        long count = 1;
        for (long dim : dims) {
            count *= dim;
        }
        float[] values = new float[Math.toIntExact(count)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextDouble() - 0.5);
        }
        return Tensors.ofFloats(name, dims, values);
    }
}

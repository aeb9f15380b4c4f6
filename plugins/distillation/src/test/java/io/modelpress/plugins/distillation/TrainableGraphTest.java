package io.modelpress.plugins.distillation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import io.modelpress.inference.OrtRunner;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.TestModels;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The ONNX → DJL translation: same outputs as ONNX Runtime, exact round trip, clear refusals. */
class TrainableGraphTest {

    @Test
    void exportingUntrainedValuesGivesTheSameBytes() throws Exception {
        for (OnnxModel model : List.of(MnistModels.mlp(), mobileNetLike(), transformerishMlp())) {
            TrainableGraph graph = graph(model);
            Map<String, float[]> values = new LinkedHashMap<>();
            graph.trainables().forEach(t -> values.put(t.name(), t.values()));
            assertArrayEquals(model.toByteArray(), graph.export(values).toByteArray(), "bit-for-bit round trip");
        }
    }

    @Test
    void trainedTensorsAreTheOnlyOnesThatChange() throws Exception {
        OnnxModel model = mobileNetLike();
        TrainableGraph graph = graph(model);
        TrainableGraph.Trainable first = graph.trainables().get(0);
        float[] moved = first.values();
        moved[0] += 1f;
        OnnxModel exported = graph.export(Map.of(first.name(), moved));
        GraphProto before = model.proto().getGraph();
        GraphProto after = exported.proto().getGraph();
        assertEquals(before.getNodeList(), after.getNodeList());
        assertEquals(before.getInputList(), after.getInputList());
        assertEquals(before.getOutputList(), after.getOutputList());
        for (int i = 0; i < before.getInitializerCount(); i++) {
            boolean changed = !before.getInitializer(i).equals(after.getInitializer(i));
            assertEquals(before.getInitializer(i).getName().equals(first.name()), changed,
                    "only the trained tensor changes: " + before.getInitializer(i).getName());
        }
        assertEquals(moved[0], Tensors.toFloats(after.getInitializer(0))[0]);
    }

    @Test
    void bnStatisticsShapesAndClipBoundsAreNotTrained() throws Exception {
        List<String> names = graph(mobileNetLike()).trainables().stream().map(TrainableGraph.Trainable::name).toList();
        assertTrue(names.containsAll(List.of("c1_w", "c1_b", "bn_scale", "bn_bias", "dw_w", "fc_w", "fc_b")), names.toString());
        assertTrue(names.stream().noneMatch(n -> n.equals("bn_mean") || n.equals("bn_var") || n.equals("shape")
                || n.startsWith("clip")), names.toString());
    }

    @Test
    void forwardMatchesOnnxRuntime() throws Exception {
        assertMatchesOrt(mobileNetLike(), new long[] {4, 3, 8, 8});
        assertMatchesOrt(transformerishMlp(), new long[] {5, 12});
        assertMatchesOrt(MnistModels.mlp(), new long[] {3, 784});
    }

    @Test
    void anOperatorOutsideTheSetIsRefusedByName() {
        GraphProto graph = GraphProto.newBuilder().setName("g")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", 4))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", 4))
                .addInitializer(TestModels.floats("w", new SplittableRandom(1), 4, 4))
                .addNode(Nodes.node("MatMul", "mm", List.of("x", "w"), List.of("h")))
                .addNode(Nodes.node("Erf", "odd", List.of("h"), List.of("y")))
                .build();
        PluginException refused = assertThrows(PluginException.class,
                () -> TrainableGraph.of(TestModels.model(graph), "x", "y"));
        assertTrue(refused.getMessage().contains("Erf (node 'odd')") && refused.getMessage().contains("Gemm"),
                refused.getMessage());
    }

    @Test
    void unevenPaddingIsRefusedWithTheReason() throws Exception {
        GraphProto graph = GraphProto.newBuilder().setName("g")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", 1, 4, 4))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", 2, 5, 5))
                .addInitializer(TestModels.floats("w", new SplittableRandom(1), 2, 1, 2, 2))
                .addNode(Nodes.node("Conv", "c", List.of("x", "w"), List.of("y"),
                        Nodes.attr("pads", new long[] {1, 1, 0, 0})))
                .build();
        TrainableGraph trainable = TrainableGraph.of(TestModels.model(graph), "x", "y");
        PluginException refused = assertThrows(PluginException.class, () -> forward(trainable, new float[16],
                new long[] {1, 1, 4, 4}));
        assertTrue(refused.getMessage().contains("pads its sides unevenly"), refused.getMessage());
    }

    private static void assertMatchesOrt(OnnxModel model, long[] shape) throws Exception {
        TrainableGraph graph = graph(model);
        SplittableRandom random = new SplittableRandom(7);
        float[] x = new float[Math.toIntExact(io.modelpress.model.Shapes.elementCount(shape))];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextDouble();
        }
        float[] djl = forward(graph, x, shape);
        float[] ort;
        try (OrtRunner runner = OrtRunner.open(model)) {
            ort = runner.run(Map.of(graph.input(), TensorData.ofFloats(shape, x))).values().iterator().next().toFloats();
        }
        assertEquals(ort.length, djl.length);
        for (int i = 0; i < ort.length; i++) {
            assertEquals(ort[i], djl[i], 1e-4 * Math.max(1, Math.abs(ort[i])), "value " + i);
        }
    }

    private static float[] forward(TrainableGraph graph, float[] x, long[] shape) throws PluginException {
        return PyTorch.run(engine -> {
            try (NDManager manager = engine.newBaseManager()) {
                Map<String, NDArray> parameters = new HashMap<>();
                for (TrainableGraph.Trainable t : graph.trainables()) {
                    parameters.put(t.name(), manager.create(t.values(), new Shape(t.dims())));
                }
                return graph.forward(manager, manager.create(x, new Shape(shape)), parameters).toFloatArray();
            }
        });
    }

    static TrainableGraph graph(OnnxModel model) throws PluginException {
        Teacher scores = TeacherAnalysis.scoreModel(model);
        return TrainableGraph.of(model, scores.inputName(), TeacherAnalysis.logitsName(model, scores));
    }

    /**
     * x [N,3,8,8] → Conv 3x3 → BatchNormalization → Clip(0, 6) → depthwise Conv stride 2 → HardSwish →
     * 1x1 Conv → Relu → (MaxPool | AveragePool) → Concat → GlobalAveragePool → Reshape → Gemm → y [N,5].
     */
    static OnnxModel mobileNetLike() {
        SplittableRandom random = new SplittableRandom(11);
        float[] variance = new float[8];
        for (int c = 0; c < 8; c++) {
            variance[c] = 0.5f + (float) random.nextDouble();
        }
        GraphProto graph = GraphProto.newBuilder().setName("mobile")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", 3, 8, 8))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", 5))
                .addInitializer(TestModels.floats("c1_w", random, 8, 3, 3, 3))
                .addInitializer(TestModels.floats("c1_b", random, 8))
                .addInitializer(TestModels.floats("bn_scale", random, 8))
                .addInitializer(TestModels.floats("bn_bias", random, 8))
                .addInitializer(TestModels.floats("bn_mean", random, 8))
                .addInitializer(Tensors.ofFloats("bn_var", new long[] {8}, variance))
                .addInitializer(Tensors.scalarFloat("clip_min", 0f))
                .addInitializer(Tensors.scalarFloat("clip_max", 6f))
                .addInitializer(TestModels.floats("dw_w", random, 8, 1, 3, 3))
                .addInitializer(TestModels.floats("pw_w", random, 6, 8, 1, 1))
                .addInitializer(TestModels.floats("pw_b", random, 6))
                .addInitializer(Tensors.ofInt64("shape", new long[] {2}, new long[] {0, -1}))
                .addInitializer(TestModels.floats("fc_w", random, 5, 12))
                .addInitializer(TestModels.floats("fc_b", random, 5))
                .addNode(Nodes.node("Conv", "c1", List.of("x", "c1_w", "c1_b"), List.of("c1"),
                        Nodes.attr("pads", new long[] {1, 1, 1, 1}), Nodes.attr("kernel_shape", new long[] {3, 3})))
                .addNode(Nodes.node("BatchNormalization", "bn", List.of("c1", "bn_scale", "bn_bias", "bn_mean", "bn_var"),
                        List.of("n")))
                .addNode(Nodes.node("Clip", "relu6", List.of("n", "clip_min", "clip_max"), List.of("r6")))
                .addNode(Nodes.node("Conv", "dw", List.of("r6", "dw_w"), List.of("d"), Nodes.attr("group", 8L),
                        Nodes.attr("strides", new long[] {2, 2}), Nodes.attr("pads", new long[] {1, 1, 1, 1})))
                .addNode(Nodes.node("HardSwish", "hs", List.of("d"), List.of("h")))
                .addNode(Nodes.node("Conv", "pw", List.of("h", "pw_w", "pw_b"), List.of("p")))
                .addNode(Nodes.node("Relu", "relu", List.of("p"), List.of("r")))
                .addNode(Nodes.node("MaxPool", "max", List.of("r"), List.of("mx"),
                        Nodes.attr("kernel_shape", new long[] {2, 2}), Nodes.attr("strides", new long[] {2, 2})))
                .addNode(Nodes.node("AveragePool", "avg", List.of("r"), List.of("av"),
                        Nodes.attr("kernel_shape", new long[] {2, 2}), Nodes.attr("strides", new long[] {2, 2})))
                .addNode(Nodes.node("Concat", "cat", List.of("mx", "av"), List.of("cat"), Nodes.attr("axis", 1L)))
                .addNode(Nodes.node("GlobalAveragePool", "gap", List.of("cat"), List.of("g")))
                .addNode(Nodes.node("Reshape", "flat", List.of("g", "shape"), List.of("f")))
                .addNode(Nodes.node("Gemm", "fc", List.of("f", "fc_w", "fc_b"), List.of("y"), Nodes.attr("transB", 1L)))
                .build();
        return TestModels.model(graph);
    }

    /** x [N,12] → Gemm → LayerNormalization → Gelu → MatMul + Add → Tanh → Flatten → Sigmoid → Gemm → LogSoftmax. */
    static OnnxModel transformerishMlp() {
        SplittableRandom random = new SplittableRandom(5);
        GraphProto graph = GraphProto.newBuilder().setName("mlp")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", 12))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", 4))
                .addInitializer(TestModels.floats("w1", random, 12, 16))
                .addInitializer(TestModels.floats("b1", random, 16))
                .addInitializer(TestModels.floats("ln_scale", random, 16))
                .addInitializer(TestModels.floats("ln_bias", random, 16))
                .addInitializer(TestModels.floats("w2", random, 16, 8))
                .addInitializer(TestModels.floats("b2", random, 8))
                .addInitializer(TestModels.floats("w3", random, 8, 4))
                .addInitializer(TestModels.floats("b3", random, 4))
                .addNode(Nodes.node("Gemm", "l1", List.of("x", "w1", "b1"), List.of("h1"), Nodes.attr("alpha", 0.5f)))
                .addNode(Nodes.node("LayerNormalization", "ln", List.of("h1", "ln_scale", "ln_bias"), List.of("n")))
                .addNode(Nodes.node("Gelu", "gelu", List.of("n"), List.of("g")))
                .addNode(Nodes.node("MatMul", "l2", List.of("g", "w2"), List.of("m2")))
                .addNode(Nodes.node("Add", "b2", List.of("m2", "b2"), List.of("h2")))
                .addNode(Nodes.node("Tanh", "tanh", List.of("h2"), List.of("t")))
                .addNode(Nodes.node("Flatten", "flat", List.of("t"), List.of("f")))
                .addNode(Nodes.node("Sigmoid", "sig", List.of("f"), List.of("s")))
                .addNode(Nodes.node("Gemm", "l3", List.of("s", "w3", "b3"), List.of("z")))
                .addNode(Nodes.node("LogSoftmax", "out", List.of("z"), List.of("y"), Nodes.attr("axis", 1L)))
                .build();
        return OnnxModel.of(ModelProto.newBuilder().setIrVersion(9).setProducerName("modelpress-tests")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(20)).setGraph(graph).build());
    }
}

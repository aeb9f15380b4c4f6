package io.modelpress.plugins.quantization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.spi.OptionException;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.Precision;
import io.modelpress.spi.QuantizedFormat;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.TestModels;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Int8DynamicPluginTest {

    private final Int8DynamicPlugin plugin = new Int8DynamicPlugin();

    private PluginResult apply(OnnxModel model, QuantizedFormat format, Map<String, String> options) throws PluginException {
        return plugin.apply(model, PluginOptions.resolve(plugin.options(), options), Models.context(format));
    }

    @Test
    void declaresItself() {
        assertEquals("int8-dynamic", plugin.id());
        assertEquals(Set.of(Precision.INT8), plugin.requiredPrecisions());
        assertTrue(plugin.options().stream().allMatch(o -> o.name().matches("[a-z0-9-]+") && !o.description().isEmpty()));
    }

    @Test
    void operatorFormTurnsMatMulAndGemmIntoIntegerKernels() throws Exception {
        OnnxModel model = TestModels.mlp(64, 48, 32, 1);
        byte[] before = model.toByteArray();
        PluginResult result = apply(model, QuantizedFormat.OPERATOR, Map.of());

        OnnxModel quantized = result.model();
        assertEquals(2, Models.count(quantized, "MatMulInteger"), "the Gemm and the MatMul");
        assertEquals(2, Models.count(quantized, "DynamicQuantizeLinear"), "their inputs differ");
        assertEquals(0, Models.count(quantized, "Gemm") + Models.count(quantized, "MatMul"));
        assertEquals(2.0, result.figures().get("weights-quantized"));
        assertTrue(result.figures().get("size-ratio") > 2.5, result.figures().toString());
        assertTrue(java.util.Arrays.equals(before, model.toByteArray()), "the input model is not changed");
        Models.assertClose(model, quantized, Models.samples("x", 4, 7, 3, 64), 0.999);
    }

    @Test
    void qdqFormPutsDequantizeLinearOnWeightsAndTheProfileChooses() throws Exception {
        OnnxModel model = TestModels.mlp(64, 48, 32, 2);
        PluginResult result = apply(model, QuantizedFormat.QDQ, Map.of());
        assertEquals(2, Models.count(result.model(), "DequantizeLinear"));
        assertEquals(0, Models.count(result.model(), "MatMulInteger"));
        assertEquals(1, Models.count(result.model(), "Gemm"));
        Models.assertClose(model, result.model(), Models.samples("x", 4, 7, 3, 64), 0.9995);

        PluginResult overridden = apply(model, QuantizedFormat.QDQ, Map.of("format", "operator"));
        assertEquals(2, Models.count(overridden.model(), "MatMulInteger"), "the option overrides the profile");
    }

    @Test
    void perTensorAndAsymmetricWork() throws Exception {
        OnnxModel model = TestModels.mlp(64, 48, 32, 3);
        for (Map<String, String> options : List.of(Map.of("per-channel", "false"), Map.of("symmetric", "false"),
                Map.of("per-channel", "false", "symmetric", "false"))) {
            for (QuantizedFormat format : QuantizedFormat.values()) {
                PluginResult result = apply(model, format, options);
                Models.assertClose(model, result.model(), Models.samples("x", 3, 8, 2, 64), 0.998);
            }
        }
    }

    @Test
    void constantNodeWeightsAreQuantizedWhereTheyLive() throws Exception {
        OnnxModel model = TestModels.mlpWithConstantNodes(64, 48, 32, 4);
        PluginResult result = apply(model, QuantizedFormat.OPERATOR, Map.of());
        assertEquals(2.0, result.figures().get("weights-quantized"));
        for (Weight weight : result.model().weights().all()) {
            if (weight.elements() >= 1024) {
                assertEquals(Weight.Storage.CONSTANT_NODE, weight.storage(), weight.ref().toString());
                assertEquals(DataType.INT8, weight.type(), weight.ref().toString());
            }
        }
        Models.assertClose(model, result.model(), Models.samples("x", 3, 9, 2, 64), 0.999);
    }

    @Test
    void weightsInsideIfBranchesAndReadFromThemAreQuantized() throws Exception {
        OnnxModel model = TestModels.withIfSubgraph(64, 32, 5);
        for (QuantizedFormat format : QuantizedFormat.values()) {
            PluginResult result = apply(model, format, Map.of());
            assertEquals(2.0, result.figures().get("weights-quantized"), "the outer w and the branch's else_w");
            assertTrue(result.model().weights().all().stream().filter(w -> w.elements() >= 1024)
                    .allMatch(w -> w.type() == DataType.INT8), "no float weight of 1024 elements is left");
            for (boolean flag : new boolean[] {true, false}) {
                SplittableRandom random = new SplittableRandom(flag ? 1 : 2);
                Map<String, TensorData> sample = Map.of("x", Models.uniform(random, 1, 64), "flag", Inputs.bool(flag));
                Models.assertClose(model, result.model(), List.of(sample), 0.999);
            }
        }
    }

    @Test
    void cnnKernelsStayFloatComputeWithInt8Storage() throws Exception {
        OnnxModel model = TestModels.cnn(48, 10, 6);
        PluginResult result = apply(model, QuantizedFormat.OPERATOR, Map.of());
        assertEquals(1.0, result.figures().get("weights-quantized"), "the 48x3x3x3 kernel; the 48x10 Gemm weight is small");
        assertEquals(1, Models.count(result.model(), "Conv"), "no ConvInteger: it is slower than float in ONNX Runtime");
        Models.assertClose(model, result.model(), Models.samples("x", 3, 10, 2, 3, 16, 16), 0.9995);
    }

    @Test
    void oldOpsetsKeepTheirOpsetAndUseMicrosoftOperators() throws Exception {
        OnnxModel model = Models.withOpset(TestModels.mlp(64, 48, 32, 7), 9);
        for (QuantizedFormat format : QuantizedFormat.values()) {
            PluginResult result = apply(model, format, Map.of("weight-only-form", "dequantize-linear"));
            assertEquals(9, Models.opset(result.model(), ""), "the default opset is not raised");
            assertEquals(1, Models.opset(result.model(), "com.microsoft"));
            assertTrue(result.changes().stream().anyMatch(c -> c.contains("opset 9 kept")), result.changes().toString());
            Models.assertClose(model, result.model(), Models.samples("x", 3, 11, 2, 64), 0.998);
        }
        OnnxModel opset11 = Models.withOpset(TestModels.mlp(64, 48, 32, 7), 11);
        PluginResult qdq = apply(opset11, QuantizedFormat.QDQ, Map.of("per-channel", "false"));
        assertTrue(Models.domainsOf(qdq.model(), "DequantizeLinear").stream().allMatch(String::isEmpty),
                "per-tensor DequantizeLinear is standard from opset 10");
        Models.assertClose(opset11, qdq.model(), Models.samples("x", 3, 11, 2, 64), 0.998);
    }

    @Test
    void anAlreadyQuantizedModelIsLeftAlone() throws Exception {
        OnnxModel once = apply(TestModels.mlp(64, 48, 32, 8), QuantizedFormat.OPERATOR, Map.of()).model();
        PluginResult twice = apply(once, QuantizedFormat.OPERATOR, Map.of());
        assertTrue(twice.model() == once, "nothing is quantized twice");
        assertTrue(twice.changes().get(0).startsWith("nothing to do: the model is quantized already"), twice.changes().toString());
        PluginResult qdqTwice = apply(apply(TestModels.mlp(64, 48, 32, 8), QuantizedFormat.QDQ, Map.of()).model(),
                QuantizedFormat.QDQ, Map.of());
        assertTrue(qdqTwice.changes().get(0).contains("DequantizeLinear"), qdqTwice.changes().toString());
    }

    @Test
    void aWeightWithNaNIsRefusedByName() {
        OnnxModel model = TestModels.mlp(64, 48, 32, 9);
        GraphProto graph = model.proto().getGraph();
        float[] values = Tensors.toFloats(graph.getInitializer(2));
        values[17] = Float.NaN;
        TensorProto poisoned = Tensors.ofFloats("w2", Tensors.dims(graph.getInitializer(2)), values);
        OnnxModel bad = model.withProto(model.proto().toBuilder().setGraph(graph.toBuilder().setInitializer(2, poisoned)).build());
        PluginException error = assertThrows(PluginException.class, () -> apply(bad, QuantizedFormat.OPERATOR, Map.of()));
        assertTrue(error.getMessage().contains("'w2'") && error.getMessage().contains("NaN"), error.getMessage());
        values[17] = Float.POSITIVE_INFINITY;
        TensorProto infinite = Tensors.ofFloats("w2", Tensors.dims(graph.getInitializer(2)), values);
        OnnxModel worse = model.withProto(model.proto().toBuilder().setGraph(graph.toBuilder().setInitializer(2, infinite)).build());
        assertThrows(PluginException.class, () -> apply(worse, QuantizedFormat.QDQ, Map.of()));
    }

    @Test
    void optionsOutOfRangeAreRejectedBeforeApply() {
        OptionException format = assertThrows(OptionException.class,
                () -> PluginOptions.resolve(plugin.options(), Map.of("format", "int3")));
        assertTrue(format.getMessage().contains("format"), format.getMessage());
        assertThrows(OptionException.class, () -> PluginOptions.resolve(plugin.options(), Map.of("min-elements", "0")));
        assertThrows(OptionException.class, () -> PluginOptions.resolve(plugin.options(), Map.of("fidelity-target", "1.5")));
    }

    @Test
    void weightsReadAsExactParametersAreReportedNotQuantized() throws Exception {
        // a large float tensor used as Resize scales-like parameter: Clip's bounds read exact values
        SplittableRandom random = new SplittableRandom(12);
        GraphProto graph = TestModels.mlp(64, 48, 32, 10).proto().getGraph().toBuilder()
                .addInitializer(TestModels.floats("table", random, 32, 64))
                .addNode(Nodes.node("Gather", "lookup", List.of("table", "index"), List.of("row")))
                .addNode(Nodes.node("TopK", "topk", List.of("y", "k"), List.of("top_values", "top_indices")))
                .addInput(Nodes.tensorValue("index", DataType.INT64, 1))
                .addInitializer(Tensors.ofInt64("k", new long[] {1}, new long[] {3}))
                .addOutput(Nodes.tensorValue("row", DataType.FLOAT, 1, 64))
                .addOutput(Nodes.tensorValue("top_values", DataType.FLOAT, "batch", 3))
                .addInitializer(TestModels.floats("bounds", random, 2048))
                .addNode(Nodes.node("ReduceMax", "bound_max", List.of("bounds"), List.of("bound_top")))
                .addOutput(Nodes.tensorValue("bound_top", DataType.FLOAT))
                .build();
        OnnxModel model = TestModels.model(graph);
        PluginResult result = apply(model, QuantizedFormat.OPERATOR, Map.of());
        assertEquals(3.0, result.figures().get("weights-quantized"), "w1, w2 and the embedding table");
        assertTrue(result.skipped().stream().anyMatch(s -> s.part().contains("'bounds'") && s.reason().contains("ReduceMax")),
                result.skipped().toString());
        assertTrue(result.skipped().stream().anyMatch(s -> s.part().contains("'unused_weight'") || s.part().contains("'k'"))
                || result.skipped().stream().noneMatch(s -> s.part().contains("'w1'")));
        SplittableRandom inputs = new SplittableRandom(13);
        Map<String, TensorData> sample = Map.of("x", Models.uniform(inputs, 2, 64),
                "index", TensorData.ofLongs(new long[] {1}, new long[] {5}));
        Models.assertClose(model, result.model(), List.of(sample), 0.999);
    }
}

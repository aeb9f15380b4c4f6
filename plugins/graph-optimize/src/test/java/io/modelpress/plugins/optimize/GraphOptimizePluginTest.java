package io.modelpress.plugins.optimize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.inference.Fidelity;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.model.DataType;
import io.modelpress.model.Graphs;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.SaveOptions;
import io.modelpress.model.Tensors;
import io.modelpress.spi.OptionException;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.PluginTestContext;
import io.modelpress.testkit.RealInputs;
import io.modelpress.testkit.RealModels;
import io.modelpress.testkit.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class GraphOptimizePluginTest {

    private final GraphOptimizePlugin plugin = new GraphOptimizePlugin();

    @TempDir
    Path dir;

    private PluginResult apply(OnnxModel model, Map<String, String> options) throws PluginException {
        return plugin.apply(model, PluginOptions.resolve(plugin.options(), options), PluginTestContext.in(dir));
    }

    @Test
    void foldsBatchNormalizationIntoConv() throws Exception {
        OnnxModel model = TestModels.cnn(8, 5, 3);
        ModelProto untouched = model.proto();
        PluginResult result = apply(model, Map.of());

        Map<String, Integer> ops = ops(result.model().proto());
        assertEquals(0, ops.getOrDefault("BatchNormalization", 0), ops.toString());
        assertEquals(1, ops.get("Conv"));
        assertTrue(result.changes().contains("BatchNormalization nodes: 1 → 0 (folded into the preceding Conv)"),
                result.changes().toString());
        assertEquals(6.0, result.figures().get("nodes-before"));
        assertEquals(5.0, result.figures().get("nodes-after"));
        assertSame(untouched, model.proto(), "the input model is not changed");
        assertEquals(model.proto().getOpsetImportList(), result.model().proto().getOpsetImportList(),
                "no opset imports for domains the graph does not use");

        TensorData x = RealInputs.gaussian(new SplittableRandom(5), 2, 3, 16, 16);
        try (OrtRunner original = OrtRunner.open(model); OrtRunner optimized = OrtRunner.open(result.model())) {
            float[] expected = original.run(Map.of("x", x)).get("y").toFloats();
            float[] actual = optimized.run(Map.of("x", x)).get("y").toFloats();
            assertEquals(expected.length, actual.length);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], 1e-4, "output " + i);
            }
        }
    }

    @Test
    void foldsAConstantSubexpression() throws Exception {
        SplittableRandom random = new SplittableRandom(9);
        GraphProto graph = GraphProto.newBuilder().setName("folding")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", 6))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", 4))
                .addInitializer(TestModels.floats("w_base", random, 6, 4))
                .addInitializer(TestModels.floats("w_delta", random, 6, 4))
                .addNode(Nodes.node("Add", "merge_weights", List.of("w_base", "w_delta"), List.of("w")))
                .addNode(Nodes.node("MatMul", "project", List.of("x", "w"), List.of("y")))
                .build();
        OnnxModel model = TestModels.model(graph);
        PluginResult result = apply(model, Map.of());

        GraphProto optimized = result.model().proto().getGraph();
        assertEquals(List.of("MatMul"), optimized.getNodeList().stream().map(NodeProto::getOpType).toList());
        assertEquals(1, optimized.getInitializerCount(), "the sum of the two weights is one folded initializer");
        assertTrue(result.changes().contains("Add nodes: 1 → 0"), result.changes().toString());
        assertTrue(result.figures().get("bytes-after") < result.figures().get("bytes-before"));

        TensorData x = RealInputs.gaussian(random, 3, 6);
        assertClose(model, result.model(), Map.of("x", x), 1e-6);
    }

    @Test
    void reportsThatAMinimalGraphDidNotChange() throws Exception {
        SplittableRandom random = new SplittableRandom(2);
        GraphProto graph = GraphProto.newBuilder().setName("minimal")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", 8))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", 3))
                .addInitializer(TestModels.floats("w", random, 8, 3))
                .addNode(Nodes.node("MatMul", "project", List.of("x", "w"), List.of("h")))
                .addNode(Nodes.node("Relu", "activate", List.of("h"), List.of("y")))
                .build();
        OnnxModel model = TestModels.model(graph);
        PluginResult result = apply(model, Map.of());

        assertSame(model, result.model(), "an unchanged graph is handed back as it was");
        assertEquals(List.of("nothing changed: ONNX Runtime found nothing to fold, fuse or remove at level basic"),
                result.changes());
        assertEquals(result.figures().get("nodes-before"), result.figures().get("nodes-after"));
    }

    @ParameterizedTest
    @EnumSource(RealModels.class)
    void realModelsKeepTheirOutputs(RealModels real) throws Exception {
        OnnxModel model = OnnxModel.load(real.copyTo(dir.resolve("models")));
        PluginResult result = apply(model, Map.of());

        assertTrue(result.figures().get("nodes-after") < result.figures().get("nodes-before"),
                real + ": " + result.changes());
        assertTrue(ops(result.model().proto()).keySet().stream().noneMatch(op -> op.contains(":")),
                "basic writes no operator of another domain: " + ops(result.model().proto()));
        try (OrtRunner original = OrtRunner.open(model); OrtRunner optimized = OrtRunner.open(result.model())) {
            List<Map<String, TensorData>> samples = List.of(RealInputs.of(real, 1), RealInputs.of(real, 2));
            List<OutputFidelity> fidelity = Fidelity.compare(original, optimized, samples);
            assertEquals(original.outputNames().size(), fidelity.size());
            for (OutputFidelity output : fidelity) {
                assertTrue(output.minCosine() >= 0.99999, real + " " + output);
            }
        }
    }

    /**
     * Silero VAD holds one If branch per sample rate; the other tests feed 16 kHz audio, this one
     * runs the 8 kHz branch too, whose weights the optimiser folds and the plugin may share.
     */
    @ParameterizedTest
    @EnumSource(value = RealModels.class, names = {"SILERO_VAD_V4", "SILERO_VAD_V5"})
    void sileroRunsBothSampleRateBranches(RealModels real) throws Exception {
        OnnxModel model = OnnxModel.load(real.copyTo(dir.resolve("models")));
        PluginResult result = apply(model, Map.of());

        assertTrue(result.figures().get("bytes-after") < result.figures().get("bytes-before"), result.changes().toString());
        for (long rate : new long[] {16000, 8000}) {
            Map<String, TensorData> sample = new java.util.HashMap<>(RealInputs.of(real, 3));
            sample.put("sr", TensorData.ofLongs(new long[0], new long[] {rate}));
            sample.put("input", RealInputs.audio(new SplittableRandom(rate), rate == 8000 ? 256 : 512));
            try (OrtRunner original = OrtRunner.open(model); OrtRunner optimized = OrtRunner.open(result.model())) {
                for (OutputFidelity output : Fidelity.compare(original, optimized, List.of(sample))) {
                    assertTrue(output.minCosine() >= 0.99999, real + " at " + rate + " Hz: " + output);
                }
            }
        }
    }

    /**
     * Both branches of an If read the same outer weight through a Transpose; the optimiser folds
     * the Transpose into each branch, writing one copy of the weight per branch. The plugin keeps
     * one copy in the main graph, which both branches read.
     */
    @Test
    void weightsFoldedIntoSeveralSubgraphsAreStoredOnce() throws Exception {
        SplittableRandom random = new SplittableRandom(11);
        GraphProto thenBranch = GraphProto.newBuilder().setName("then")
                .addOutput(Nodes.tensorValue("then_y", DataType.FLOAT, 1, 16))
                .addNode(Nodes.node("Transpose", "then_t", List.of("w_t"), List.of("then_w")))
                .addNode(Nodes.node("MatMul", "then_mm", List.of("x", "then_w"), List.of("then_y")))
                .build();
        GraphProto elseBranch = GraphProto.newBuilder().setName("else")
                .addOutput(Nodes.tensorValue("else_y", DataType.FLOAT, 1, 16))
                .addNode(Nodes.node("Transpose", "else_t", List.of("w_t"), List.of("else_w")))
                .addNode(Nodes.node("MatMul", "else_mm", List.of("x", "else_w"), List.of("else_z")))
                .addNode(Nodes.node("Relu", "else_relu", List.of("else_z"), List.of("else_y")))
                .build();
        GraphProto graph = GraphProto.newBuilder().setName("shared")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, 1, 32))
                .addInput(Nodes.tensorValue("flag", DataType.BOOL))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, 1, 16))
                .addInitializer(TestModels.floats("w_t", random, 16, 32))
                .addNode(Nodes.node("If", "branch", List.of("flag"), List.of("y"),
                        Nodes.attr("then_branch", thenBranch), Nodes.attr("else_branch", elseBranch)))
                .build();
        OnnxModel model = TestModels.model(graph);
        PluginResult result = apply(model, Map.of());

        List<io.modelpress.model.Weight> weights = result.model().weights().all();
        assertEquals(1, weights.size(), weights.toString());
        assertTrue(weights.get(0).ref().graph().isMain(), weights.toString());
        assertEquals(2.0, result.figures().get("shared-copies-removed"), result.changes().toString());
        assertEquals(0, ops(result.model().proto()).getOrDefault("Transpose", 0));
        for (boolean flag : new boolean[] {true, false}) {
            assertClose(model, result.model(), TestModels.ifSample(RealInputs.gaussian(random, 1, 32), flag), 1e-5);
        }
    }

    @Test
    void extendedWritesOnnxRuntimeFusedOperatorsAndSaysSo() throws Exception {
        OnnxModel model = TestModels.cnn(4, 3, 8);
        PluginResult result = apply(model, Map.of("level", "extended"));

        Map<String, Integer> ops = ops(result.model().proto());
        assertEquals(1, ops.getOrDefault("com.microsoft:FusedConv", 0), ops.toString());
        assertTrue(result.model().proto().getOpsetImportList().stream()
                .anyMatch(opset -> opset.getDomain().equals("com.microsoft")), "the new domain is imported");
        assertTrue(result.changes().stream().anyMatch(line -> line.startsWith("wrote ONNX Runtime-only operators")),
                result.changes().toString());
        assertEquals("portability", result.skipped().get(0).part());
        assertClose(model, result.model(), Map.of("x", RealInputs.gaussian(new SplittableRandom(3), 1, 3, 16, 16)), 1e-4);
    }

    @Test
    void handlesModelsWithExternalData() throws Exception {
        Path file = dir.resolve("stored/model.onnx");
        TestModels.cnn(16, 10, 4).save(file, SaveOptions.external("0b9e6d1c-57a4-4f2e-8c3b-9a1d7e5f2c60"));
        OnnxModel model = OnnxModel.load(file);
        assertTrue(model.hadExternalData());

        PluginResult result = apply(model, Map.of());
        assertTrue(result.model().hadExternalData(), "the result is saved the way the source was");
        assertEquals(0, ops(result.model().proto()).getOrDefault("BatchNormalization", 0));
        assertClose(model, result.model(), Map.of("x", RealInputs.gaussian(new SplittableRandom(1), 1, 3, 16, 16)), 1e-4);
        try (var left = Files.list(dir)) {
            assertTrue(left.noneMatch(path -> path.getFileName().toString().startsWith("graph-optimize-")),
                    "the work folder is removed");
        }
    }

    /**
     * ONNX Runtime's CPU provider has no float16 kernels for most operators and wraps them in
     * Casts to float32 when it places kernels (and inlines Softmax); the saved graph would keep
     * them and compute in float32 on the GPU the model was made half for. The plugin refuses
     * such a model, and refuses any result with Casts the model did not have.
     */
    @Test
    void refusesAHalfPrecisionModelThatTheCpuOptimiserWouldCastBack() throws Exception {
        SplittableRandom random = new SplittableRandom(4);
        GraphProto graph = GraphProto.newBuilder().setName("half")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", 8))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", 4))
                .addInitializer(half("w", random, 8, 4))
                .addInitializer(half("b", random, 4))
                .addNode(Nodes.node("Cast", "to_half", List.of("x"), List.of("x16"),
                        Nodes.attr("to", (long) DataType.FLOAT16.code())))
                .addNode(Nodes.node("MatMul", "project", List.of("x16", "w"), List.of("h")))
                .addNode(Nodes.node("Add", "bias", List.of("h", "b"), List.of("z")))
                .addNode(Nodes.node("Softmax", "scores", List.of("z"), List.of("s")))
                .addNode(Nodes.node("Cast", "to_float", List.of("s"), List.of("y"),
                        Nodes.attr("to", (long) DataType.FLOAT.code())))
                .build();
        PluginException e = assertThrows(PluginException.class, () -> apply(TestModels.model(graph), Map.of()));
        assertEquals("the model computes in half precision (half weights: 2, Casts to half: 1): ONNX Runtime's "
                + "CPU optimiser would cast it back to float32 where its CPU lacks half kernels; run graph-optimize "
                + "before fp16", e.getMessage());
    }

    /** Folding a DequantizeLinear of constant int8 weights would write them back as float32. */
    @Test
    void keepsQuantizedWeightsQuantized() throws Exception {
        OnnxModel model = TestModels.int8MatMul();
        PluginResult result = apply(model, Map.of());

        assertEquals(1, ops(result.model().proto()).getOrDefault("DequantizeLinear", 0), ops(result.model().proto()).toString());
        assertTrue(result.model().weights().all().stream().anyMatch(w -> w.type() == DataType.INT8));
        assertTrue(result.model().serializedSize() <= model.serializedSize() + 256, result.changes().toString());
        assertClose(model, result.model(), Map.of("x", RealInputs.gaussian(new SplittableRandom(6), 2, 64)), 1e-4);
    }

    @Test
    void refusesWeightsWithNaNOrInfinityNamingTheTensor() {
        OnnxModel cnn = TestModels.cnn(4, 3, 2);
        GraphProto graph = cnn.proto().getGraph();
        int index = graph.getInitializerList().stream().map(TensorProto::getName).toList().indexOf("bn_var");
        float[] variance = Tensors.toFloats(graph.getInitializer(index));
        variance[2] = Float.NaN;
        GraphProto broken = graph.toBuilder().setInitializer(index, Tensors.ofFloats("bn_var", new long[] {4}, variance))
                .build();
        PluginException e = assertThrows(PluginException.class, () -> apply(TestModels.model(broken), Map.of()));
        assertEquals("weight 'bn_var' holds NaN at index 2: fix the model; folding would spread it into other weights",
                e.getMessage());
    }

    @Test
    void anAlreadyOptimisedModelHasNothingLeftToDo() throws Exception {
        OnnxModel once = apply(TestModels.cnn(8, 5, 6), Map.of()).model();
        PluginResult twice = apply(once, Map.of());
        assertSame(once, twice.model());
        assertEquals(List.of("nothing changed: ONNX Runtime found nothing to fold, fuse or remove at level basic"),
                twice.changes());
    }

    @Test
    void neverOffersTheHardwareSpecificLevel() {
        OptionException e = assertThrows(OptionException.class,
                () -> PluginOptions.resolve(plugin.options(), Map.of("level", "all")));
        assertTrue(e.getMessage().contains("not one of basic, extended"), e.getMessage());
    }

    @Test
    void aModelOnnxRuntimeCannotLoadFailsWithOneLine() {
        GraphProto graph = GraphProto.newBuilder().setName("broken")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, 2))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, 2))
                .addNode(Nodes.node("NoSuchOperator", "mystery", List.of("x"), List.of("y")))
                .build();
        PluginException e = assertThrows(PluginException.class, () -> apply(TestModels.model(graph), Map.of()));
        assertTrue(e.getMessage().startsWith("ONNX Runtime cannot optimise the model: "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void honoursCancellation() {
        PluginTestContext context = PluginTestContext.in(dir);
        context.cancel();
        assertThrows(CancellationException.class, () -> plugin.apply(TestModels.cnn(4, 3, 1),
                PluginOptions.defaults(plugin.options()), context));
    }

    @Test
    void reportsProgress() throws Exception {
        PluginTestContext context = PluginTestContext.in(dir);
        plugin.apply(TestModels.cnn(4, 3, 1), PluginOptions.defaults(plugin.options()), context);
        assertTrue(context.progressReports().size() >= 3, context.progressReports().toString());
    }

    private static void assertClose(OnnxModel expectedModel, OnnxModel actualModel, Map<String, TensorData> inputs,
            double tolerance) {
        try (OrtRunner expected = OrtRunner.open(expectedModel); OrtRunner actual = OrtRunner.open(actualModel)) {
            Map<String, TensorData> want = expected.run(inputs);
            Map<String, TensorData> got = actual.run(inputs);
            assertEquals(want.keySet(), got.keySet());
            want.forEach((name, value) -> {
                float[] a = value.toFloats();
                float[] b = got.get(name).toFloats();
                for (int i = 0; i < a.length; i++) {
                    assertEquals(a[i], b[i], tolerance, name + "[" + i + "]");
                }
            });
        }
    }

    private static TensorProto half(String name, SplittableRandom random, long... dims) {
        return Tensors.ofFloat16(name, dims, Tensors.toFloats(TestModels.floats(name, random, dims)));
    }

    private static Map<String, Integer> ops(ModelProto model) {
        Map<String, Integer> counts = new TreeMap<>();
        Graphs.forEach(model, (path, graph) -> graph.getNodeList().forEach(node -> counts.merge(
                node.getDomain().isEmpty() ? node.getOpType() : node.getDomain() + ":" + node.getOpType(), 1, Integer::sum)));
        return counts;
    }
}

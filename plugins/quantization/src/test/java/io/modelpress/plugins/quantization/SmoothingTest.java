package io.modelpress.plugins.quantization;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import io.modelpress.inference.Fidelity;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.model.DataType;
import io.modelpress.model.GraphPath;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.QuantizedFormat;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.TestModels;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SmoothingTest {

    private static final int WIDTH = 64;

    private final Int8DynamicPlugin plugin = new Int8DynamicPlugin();
    private final OnnxModel model = outliers(5);
    private final CalibrationData calibration = CalibrationData.of(Models.samples("x", 8, 11, 16, WIDTH));
    private final List<Map<String, TensorData>> held = Models.samples("x", 6, 12, 16, WIDTH);

    /**
     * x → Mul by a gain with four outlier channels (x40) → h; h feeds a MatMul and a transposed
     * Gemm (sharing one quantized activation) and a Relu that is an output of its own (a residual
     * reader that must see h unchanged); the MatMul's output goes through Relu into a second MatMul.
     */
    static OnnxModel outliers(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] gain = new float[WIDTH];
        java.util.Arrays.fill(gain, 1f);
        for (int j : new int[] {3, 17, 40, 58}) {
            gain[j] = 40f;
        }
        GraphProto graph = GraphProto.newBuilder()
                .setName("outliers")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", WIDTH))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", 32))
                .addOutput(Nodes.tensorValue("g", DataType.FLOAT, "batch", 48))
                .addOutput(Nodes.tensorValue("r", DataType.FLOAT, "batch", WIDTH))
                .addInitializer(Tensors.ofFloats("gain", new long[] {WIDTH}, gain))
                .addInitializer(TestModels.floats("w1", random, WIDTH, 96))
                .addInitializer(TestModels.floats("w2", random, 96, 32))
                .addInitializer(TestModels.floats("w3", random, 48, WIDTH))
                .addNode(Nodes.node("Mul", "amplify", List.of("x", "gain"), List.of("h")))
                .addNode(Nodes.node("Relu", "residual", List.of("h"), List.of("r")))
                .addNode(Nodes.node("MatMul", "up", List.of("h", "w1"), List.of("a")))
                .addNode(Nodes.node("Gemm", "side", List.of("h", "w3"), List.of("g"), Nodes.attr("transB", 1L)))
                .addNode(Nodes.node("Relu", "act", List.of("a"), List.of("b")))
                .addNode(Nodes.node("MatMul", "down", List.of("b", "w2"), List.of("y")))
                .build();
        return TestModels.model(graph);
    }

    private PluginResult apply(QuantizedFormat format, String smooth, boolean calibrated) throws PluginException {
        return apply(format, Map.of("smooth", smooth), calibrated);
    }

    private PluginResult apply(QuantizedFormat format, Map<String, String> options, boolean calibrated)
            throws PluginException {
        var context = Models.context(format);
        return plugin.apply(model, PluginOptions.resolve(plugin.options(), options),
                calibrated ? context.withCalibration(calibration) : context);
    }

    private Map<String, OutputFidelity> fidelity(OnnxModel quantized) {
        try (OrtRunner before = OrtRunner.open(model); OrtRunner after = OrtRunner.open(quantized)) {
            Map<String, OutputFidelity> byOutput = new HashMap<>();
            Fidelity.compare(before, after, held).forEach(f -> byOutput.put(f.output(), f));
            return byOutput;
        }
    }

    @Test
    void smoothingRaisesFidelityWithEveryMatMulStillInteger() throws Exception {
        PluginResult plain = apply(QuantizedFormat.OPERATOR, "0", true);
        PluginResult smoothed = apply(QuantizedFormat.OPERATOR, Map.of("smooth", "0.5", "smooth-outlier-ratio", "1"), true);

        for (PluginResult result : List.of(plain, smoothed)) {
            assertEquals(3, Models.count(result.model(), "MatMulInteger"));
            assertEquals(2, Models.count(result.model(), "DynamicQuantizeLinear"), "h is quantized once for both readers");
            assertEquals(0, Models.count(result.model(), "MatMul") + Models.count(result.model(), "Gemm"));
        }
        assertEquals(2.0, smoothed.figures().get("activations-smoothed"));
        assertTrue(smoothed.changes().stream().anyMatch(c -> c.startsWith("2 activations smoothed") && c.contains("Mul before its readers (2)")), smoothed.changes().toString());

        Map<String, OutputFidelity> before = fidelity(plain.model());
        Map<String, OutputFidelity> after = fidelity(smoothed.model());
        for (String output : List.of("y", "g")) {
            double lostBefore = 1 - before.get(output).meanCosine();
            double lostAfter = 1 - after.get(output).meanCosine();
            assertTrue(lostAfter < lostBefore / 2, output + ": plain " + before.get(output) + ", smoothed " + after.get(output));
        }
        assertEquals(0.0, after.get("r").maxAbsError(), "the residual reader sees the activation unchanged");
    }

    /** x → LayerNormalization (a scale with outlier channels) → MatMul, with the residual taken from x: a pre-norm block. */
    static OnnxModel preNorm(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] gamma = new float[WIDTH];
        java.util.Arrays.fill(gamma, 1f);
        for (int j : new int[] {5, 29, 44}) {
            gamma[j] = 40f;
        }
        GraphProto graph = GraphProto.newBuilder()
                .setName("pre_norm")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", WIDTH))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", WIDTH))
                .addInitializer(Tensors.ofFloats("gamma", new long[] {WIDTH}, gamma))
                .addInitializer(TestModels.floats("beta", random, WIDTH))
                .addInitializer(TestModels.floats("w", random, WIDTH, WIDTH))
                .addNode(Nodes.node("LayerNormalization", "norm", List.of("x", "gamma", "beta"), List.of("h")))
                .addNode(Nodes.node("MatMul", "proj", List.of("h", "w"), List.of("p")))
                .addNode(Nodes.node("Add", "residual", List.of("x", "p"), List.of("y")))
                .build();
        return TestModels.model(graph);
    }

    @Test
    void foldsIntoTheLayerNormalizationWhenOnlyTheMatMulsReadIt() throws Exception {
        OnnxModel block = preNorm(6);
        var options = Map.of("smooth", "0.5");
        PluginResult plain = plugin.apply(block, PluginOptions.resolve(plugin.options(), Map.of()),
                Models.context(QuantizedFormat.OPERATOR));
        PluginResult smoothed = plugin.apply(block, PluginOptions.resolve(plugin.options(), options),
                Models.context(QuantizedFormat.OPERATOR).withCalibration(calibration));

        assertEquals(0, Models.count(smoothed.model(), "Mul") - Models.count(plain.model(), "Mul"), "no Mul is added");
        assertEquals(1, Models.count(smoothed.model(), "MatMulInteger"));
        assertTrue(smoothed.changes().stream().anyMatch(c -> c.contains("in the node making it (1)")),
                smoothed.changes().toString());
        try (OrtRunner original = OrtRunner.open(block); OrtRunner before = OrtRunner.open(plain.model());
                OrtRunner after = OrtRunner.open(smoothed.model())) {
            double lostBefore = 1 - Fidelity.compare(original, before, held).get(0).meanCosine();
            double lostAfter = 1 - Fidelity.compare(original, after, held).get(0).meanCosine();
            assertTrue(lostAfter < lostBefore / 2, "plain " + lostBefore + ", smoothed " + lostAfter);
        }
    }

    /** x → MatMul (three output channels 40x the rest) → Mul by a per-channel constant → MatMul. */
    static OnnxModel halved(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] first = Tensors.toFloats(TestModels.floats("first", random, WIDTH, WIDTH));
        for (int row = 0; row < WIDTH; row++) {
            for (int j : new int[] {5, 29, 44}) {
                first[row * WIDTH + j] *= 40f;
            }
        }
        GraphProto graph = GraphProto.newBuilder()
                .setName("halved")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", WIDTH))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", WIDTH))
                .addInitializer(Tensors.ofFloats("first", new long[] {WIDTH, WIDTH}, first))
                .addInitializer(Tensors.ofFloats("half", new long[] {WIDTH}, half()))
                .addInitializer(TestModels.floats("w", random, WIDTH, WIDTH))
                .addNode(Nodes.node("MatMul", "up", List.of("x", "first"), List.of("h")))
                .addNode(Nodes.node("Mul", "halve", List.of("h", "half"), List.of("g")))
                .addNode(Nodes.node("MatMul", "down", List.of("g", "w"), List.of("y")))
                .build();
        return TestModels.model(graph);
    }

    private static float[] half() {
        float[] values = new float[WIDTH];
        java.util.Arrays.fill(values, 0.5f);
        return values;
    }

    @Test
    void foldsIntoTheConstantOfTheMulThatMakesTheActivation() throws Exception {
        OnnxModel block = halved(8);
        PluginResult plain = plugin.apply(block, PluginOptions.resolve(plugin.options(), Map.of()),
                Models.context(QuantizedFormat.OPERATOR));
        PluginResult smoothed = plugin.apply(block, PluginOptions.resolve(plugin.options(), Map.of("smooth", "0.5")),
                Models.context(QuantizedFormat.OPERATOR).withCalibration(calibration));

        assertEquals(Models.count(plain.model(), "Mul"), Models.count(smoothed.model(), "Mul"), "no Mul is added");
        assertEquals(2, Models.count(smoothed.model(), "MatMulInteger"));
        float[] half = Tensors.toFloats(smoothed.model().weights().tensor(new Weight.Ref(GraphPath.MAIN, "half")));
        assertTrue(half[5] < 0.5f && half[29] < 0.5f, "the outlier channels' factors took 1/s");
        assertTrue(smoothed.changes().stream().anyMatch(c -> c.contains("in the node making it (1)")),
                smoothed.changes().toString());
        try (OrtRunner original = OrtRunner.open(block); OrtRunner before = OrtRunner.open(plain.model());
                OrtRunner after = OrtRunner.open(smoothed.model())) {
            double lostBefore = 1 - Fidelity.compare(original, before, held).get(0).meanCosine();
            double lostAfter = 1 - Fidelity.compare(original, after, held).get(0).meanCosine();
            assertTrue(lostAfter < lostBefore / 2, "plain " + lostBefore + ", smoothed " + lostAfter);
        }
    }

    @Test
    void withoutAddedMulsOnlyFoldableActivationsAreSmoothed() throws Exception {
        PluginResult plain = apply(QuantizedFormat.OPERATOR, "0", true);
        PluginResult folded = apply(QuantizedFormat.OPERATOR, Map.of("smooth", "0.5", "smooth-add-mul", "false"), true);

        assertEquals(Models.count(plain.model(), "Mul"), Models.count(folded.model(), "Mul"), "no node added");
        assertTrue(folded.changes().stream().anyMatch(c -> c.contains("left as they are (only an added Mul could divide them)")),
                folded.changes().toString());
    }

    @Test
    void byDefaultOnlyActivationsWithOutlierChannelsAreSmoothed() throws Exception {
        PluginResult result = apply(QuantizedFormat.OPERATOR, "0.5", true);
        assertEquals(1.0, result.figures().get("activations-smoothed"), "h, whose four channels stand out; not the Relu output");
        assertTrue(result.changes().stream().anyMatch(c -> c.contains("Mul before its readers (1); 1 left as they are")),
                result.changes().toString());
        assertEquals(1, Models.count(result.model(), "Mul") - Models.count(apply(QuantizedFormat.OPERATOR, "0", true).model(), "Mul"),
                "one Mul by 1/s");
        Models.assertClose(model, result.model(), held, 0.999);
    }

    /** The output fidelity the plugin itself measures once everything is quantized, with these options. */
    private double measured(Map<String, String> options) throws PluginException {
        Map<String, String> withTarget = new HashMap<>(options);
        withTarget.put("fidelity-target", "0.999999");
        return apply(QuantizedFormat.OPERATOR, withTarget, true).figures().get("fidelity-all-quantized");
    }

    @Test
    void withAFidelityTargetOnlyTheStrongestOutliersNeededAreSmoothed() throws Exception {
        double plain = measured(Map.of());
        double strongest = measured(Map.of("smooth", "0.5"));
        assertTrue(strongest > plain, "smoothing h alone helps: " + plain + " -> " + strongest);

        double target = (plain + strongest) / 2;
        PluginResult result = apply(QuantizedFormat.OPERATOR, Map.of("smooth", "0.5", "smooth-outlier-ratio", "1",
                "fidelity-target", Double.toString(target)), true);

        assertEquals(1.0, result.figures().get("activations-smoothed"), "h, not the Relu output: " + result.changes());
        assertTrue(result.changes().stream().anyMatch(c -> c.startsWith("1 of 2 activations with outlier channels smoothed")),
                result.changes().toString());
        assertTrue(result.figures().get("fidelity") >= target, result.figures().toString());
        assertEquals(0.0, result.figures().get("layers-weight-only"), "smoothing was enough: every MatMul stays integer");
        assertEquals(1, Models.count(result.model(), "Mul") - Models.count(apply(QuantizedFormat.OPERATOR, "0", true).model(), "Mul"));
    }

    @Test
    void nothingIsSmoothedWhenPlainInt8MeetsTheFidelityTarget() throws Exception {
        double plain = measured(Map.of());
        PluginResult result = apply(QuantizedFormat.OPERATOR, Map.of("smooth", "0.5", "smooth-outlier-ratio", "1",
                "fidelity-target", Double.toString(plain * 0.999)), true);

        assertEquals(0.0, result.figures().get("activations-smoothed"));
        assertTrue(result.changes().stream().anyMatch(c -> c.startsWith("nothing smoothed: the model reached the fidelity target")),
                result.changes().toString());
        assertArrayEquals(apply(QuantizedFormat.OPERATOR, "0", true).model().toByteArray(), result.model().toByteArray(),
                "the same model as without smoothing");
    }

    @Test
    void smoothsAGraphInputReadByAGemmWithBias() throws Exception {
        OnnxModel mlp = TestModels.mlp(WIDTH, 48, 32, 4);
        PluginResult result = plugin.apply(mlp, PluginOptions.resolve(plugin.options(),
                Map.of("smooth", "0.5", "smooth-outlier-ratio", "1")),
                Models.context(QuantizedFormat.OPERATOR).withCalibration(calibration));
        assertEquals(2.0, result.figures().get("activations-smoothed"), "the input x and the Relu output");
        assertEquals(2, Models.count(result.model(), "MatMulInteger"));
        Models.assertClose(mlp, result.model(), held, 0.999);
    }

    @Test
    void smoothingIsDeterministic() throws Exception {
        assertArrayEquals(apply(QuantizedFormat.OPERATOR, "0.5", true).model().toByteArray(),
                apply(QuantizedFormat.OPERATOR, "0.5", true).model().toByteArray());
    }

    @Test
    void smoothingNeedsCalibrationData() {
        PluginException error = assertThrows(PluginException.class, () -> apply(QuantizedFormat.OPERATOR, "0.5", false));
        assertTrue(error.getMessage().contains("'smooth'") && error.getMessage().contains("calibration"), error.getMessage());
    }

    @Test
    void qdqFormSaysSmoothingHasNoEffect() throws Exception {
        PluginResult result = apply(QuantizedFormat.QDQ, "0.5", true);
        assertTrue(result.changes().stream().anyMatch(c -> c.contains("no effect in QDQ form")), result.changes().toString());
        assertEquals(0, Models.count(result.model(), "MatMulInteger"));
    }

    @Test
    void factorsMoveRangeFromActivationToWeight() {
        float[] s = Smoothing.factors(new float[] {100f, 1f, 0f, 4f}, new float[] {1f, 1f, 0.5f, 0f}, 0.5);
        assertArrayEquals(new float[] {10f, 1f, 1f, 1f}, s, 1e-6f, "channels without a range keep 1");
        assertArrayEquals(new float[] {100f}, Smoothing.factors(new float[] {100f}, new float[] {0.25f}, 1.0), 1e-6f);
        assertEquals(20.0, Smoothing.outlierRatio(new float[] {1f, 2f, 40f, 2f, 1.5f}), 1e-9);
        assertEquals(Double.POSITIVE_INFINITY, Smoothing.outlierRatio(new float[] {0f, 0f, 3f}));
    }
}

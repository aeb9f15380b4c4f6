package io.modelpress.plugins.lowrank;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.inference.InputGenerator;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.model.WeightIndex;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.ModelChecks;
import io.modelpress.testkit.PluginTestContext;
import io.modelpress.testkit.RealModels;
import io.modelpress.testkit.TestModels;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LowRankPluginTest {

    private final LowRankPlugin plugin = new LowRankPlugin();

    @TempDir
    Path temp;

    @Test
    void explicitRankFactorsGemmAndMatMulAndKeepsTheSignature() throws Exception {
        OnnxModel model = TestModels.mlp(64, 64, 64, 3);
        ModelProto untouched = model.proto();
        PluginResult result = apply(model, Map.of("rank", "8"));

        assertEquals(2.0, result.figures().get("layers-factored"), result.changes().toString());
        assertEquals(untouched, model.proto(), "the input model is not changed");
        long saved = 2L * (64 * 64 - 8 * (64 + 64));
        assertEquals(model.weights().totalElements() - saved, result.model().weights().totalElements());
        assertEquals(model.weights().totalElements(), result.figures().get("parameters-before"));
        assertEquals(result.model().weights().totalElements(), result.figures().get("parameters-after"));
        assertEquals(saved, result.figures().get("parameters-removed"));
        assertTrue(result.changes().get(0).contains("'fc1' (Gemm, weight 'w1' [64,64])"), result.changes().toString());
        assertTrue(result.changes().get(0).contains("rank 8 of 64"), result.changes().get(0));
        assertTrue(result.changes().get(0).contains("parameters 4096 → 1024"), result.changes().get(0));
        assertSameSignature(model, result.model());
        assertTrue(fidelity(model, result.model(), samples(model, 8)).meanCosine() > 0.3, "random weights at rank 8");
        assertTrue(result.model().weights().all().stream().noneMatch(w -> w.name().equals("w1")), "w1 is replaced");
    }

    @Test
    void mnistClassifierFactoredAtNinetyPercentEnergyStaysAccurate() throws Exception {
        OnnxModel model = MnistModels.mlp();
        PluginResult result = apply(model, Map.of("energy", "0.9"));

        assertEquals(3.0, result.figures().get("layers-factored"), result.changes() + " " + result.skipped());
        double parameters = result.figures().get("parameters-after");
        assertTrue(parameters < 0.9 * result.figures().get("parameters-before"), result.figures().toString());
        double before = MnistModels.accuracy(model, MnistModels.TRAIN, 10_000);
        double after = MnistModels.accuracy(result.model(), MnistModels.TRAIN, 10_000);
        System.out.printf("MNIST MLP, energy 0.9: parameters %.0f → %.0f, held-out top-1 %.4f → %.4f%n",
                result.figures().get("parameters-before"), parameters, before, after);
        assertTrue(after >= before - 0.005, "held-out accuracy " + before + " → " + after);
    }

    @Test
    void exactlyLowRankWeightsSurviveNearFullEnergy() throws Exception {
        OnnxModel model = lowRankMlp(48, 64, 40, 4, 5);
        PluginResult result = apply(model, Map.of("energy", "0.99999999"));

        assertEquals(2.0, result.figures().get("layers-factored"), result.skipped().toString());
        assertTrue(result.changes().stream().allMatch(change -> change.contains("rank 4 of")), result.changes().toString());
        OutputFidelity fidelity = fidelity(model, result.model(), samples(model, 16));
        assertTrue(fidelity.minCosine() > 0.9999, "cosine " + fidelity.minCosine());
        assertTrue(fidelity.relativeError() < 1e-3, "relative error " + fidelity.relativeError());
    }

    @Test
    void moreEnergyKeepsMoreParametersAndCloserOutputsOnTheWakewordModel() throws Exception {
        OnnxModel model = OnnxModel.load(RealModels.WAKEWORD.copyTo(temp));
        List<Map<String, TensorData>> samples = samples(model, 12);
        double firstError = Double.NaN;
        double lastError = Double.NaN;
        double previousParameters = 0;
        for (String energy : List.of("0.5", "0.8", "0.95", "0.99")) {
            PluginResult result = apply(model, Map.of("energy", energy));
            assertSameSignature(model, result.model());
            OutputFidelity fidelity = fidelity(model, result.model(), samples);
            double parameters = result.figures().get("parameters-after");
            assertEquals(result.model().weights().totalElements(), parameters);
            // One score per sample: the relative error over all samples is the measure that tells. It need
            // not fall at every step (a factored layer feeds non-linear ones), but it must from end to end.
            firstError = Double.isNaN(firstError) ? fidelity.relativeError() : firstError;
            lastError = fidelity.relativeError();
            assertTrue(parameters >= previousParameters, "more energy keeps more parameters");
            previousParameters = parameters;
            if (energy.equals("0.5")) {
                assertTrue(result.changes().stream().anyMatch(c -> c.contains("layer1.weight")), result.changes().toString());
                assertTrue(parameters < model.weights().totalElements(), "parameters fall at energy 0.5");
                assertTrue(result.skipped().stream().anyMatch(s -> s.reason().contains("fewer than min-elements")),
                        result.skipped().toString());
            }
        }
        assertTrue(lastError < firstError / 2, "relative error " + firstError + " at energy 0.5, " + lastError + " at 0.99");
        assertTrue(lastError < 0.05, "energy 0.99 keeps the outputs close: relative error " + lastError);
    }

    @Test
    void convolutionBecomesAConvWithFewerFiltersAndAPointwiseConv() throws Exception {
        OnnxModel model = TestModels.cnn(32, 10, 9);
        PluginResult result = apply(model, Map.of("rank", "6", "min-elements", "512"));

        assertTrue(result.changes().stream().anyMatch(c -> c.startsWith("'conv' (Conv") && c.contains("rank 6 of 27")),
                result.changes().toString());
        GraphProto graph = result.model().proto().getGraph();
        List<NodeProto> convs = graph.getNodeList().stream().filter(n -> n.getOpType().equals("Conv")).toList();
        assertEquals(2, convs.size());
        assertEquals(List.of(6L, 3L, 3L, 3L), tensor(result.model(), convs.get(0).getInput(1)).getDimsList());
        assertEquals(List.of(32L, 6L, 1L, 1L), tensor(result.model(), convs.get(1).getInput(1)).getDimsList());
        assertEquals("conv_b", convs.get(1).getInput(2), "the bias stays on the last Conv");
        long saved = 32 * 27 - 6 * (27 + 32);
        assertEquals(model.weights().totalElements() - saved, result.model().weights().totalElements());
        assertSameSignature(model, result.model());
        assertTrue(fidelity(model, result.model(), samples(model, 4)).meanCosine() > 0.5);
    }

    @Test
    void exactlyLowRankConvIsReproduced() throws Exception {
        OnnxModel cnn = TestModels.cnn(16, 4, 2);
        float[] lowRank = product(new SplittableRandom(4), 16, 2, 27);
        OnnxModel model = replace(cnn, "conv_w", Tensors.ofFloats("conv_w", new long[] {16, 3, 3, 3}, lowRank));
        PluginResult result = apply(model, Map.of("energy", "0.99999999", "min-elements", "64"));

        assertTrue(result.changes().get(0).contains("rank 2 of 16"), result.changes().toString());
        assertTrue(fidelity(model, result.model(), samples(model, 4)).minCosine() > 0.9999);
    }

    @Test
    void gemmWithTransposedWeightAlphaBetaAndBiasStaysExact() throws Exception {
        SplittableRandom random = new SplittableRandom(8);
        int k = 40;
        int n = 36;
        float[] weight = product(random, n, 3, k); // stored N × K for transB=1
        GraphProto graph = GraphProto.newBuilder().setName("gemm")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", k))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", n))
                .addInitializer(Tensors.ofFloats("w", new long[] {n, k}, weight))
                .addInitializer(TestModels.floats("c", random, n))
                .addNode(Nodes.node("Gemm", "g", List.of("x", "w", "c"), List.of("y"), Nodes.attr("transB", 1L),
                        Nodes.attr("alpha", 0.5f), Nodes.attr("beta", 2f)))
                .build();
        OnnxModel model = TestModels.model(graph);
        PluginResult result = apply(model, Map.of("rank", "3", "min-elements", "16"));

        assertEquals(1.0, result.figures().get("layers-factored"));
        List<String> ops = result.model().proto().getGraph().getNodeList().stream().map(NodeProto::getOpType).toList();
        assertEquals(List.of("MatMul", "Gemm"), ops);
        assertSameOutputs(model, result.model(), samples(model, 4), 1e-4f);
    }

    @Test
    void constantNodeWeightsStayConstantNodes() throws Exception {
        OnnxModel model = TestModels.mlpWithConstantNodes(64, 64, 64, 3);
        PluginResult result = apply(model, Map.of("rank", "8"));

        assertEquals(2.0, result.figures().get("layers-factored"));
        assertEquals(0, result.model().proto().getGraph().getInitializerCount());
        List<Weight> factors = result.model().weights().all().stream().filter(w -> w.name().contains("_factor_")).toList();
        assertEquals(4, factors.size());
        assertTrue(factors.stream().allMatch(w -> w.storage() == Weight.Storage.CONSTANT_NODE));
        // the same factors as the initializer form of the same network
        PluginResult initializerForm = apply(TestModels.mlp(64, 64, 64, 3), Map.of("rank", "8"));
        assertSameOutputs(initializerForm.model(), result.model(), samples(model, 4), 1e-5f);
    }

    @Test
    void weightsReadInsideIfBranchesAreFactored() throws Exception {
        OnnxModel model = TestModels.withIfSubgraph(64, 64, 12);
        PluginResult result = apply(model, Map.of("rank-ratio", "0.125"));

        assertEquals(2.0, result.figures().get("layers-factored"), result.skipped().toString());
        assertTrue(result.changes().stream().anyMatch(c -> c.contains("in main/branch.else_branch")), result.changes().toString());
        for (boolean flag : new boolean[] {true, false}) {
            List<Map<String, TensorData>> samples = samples(model, 4).stream()
                    .map(sample -> TestModels.ifSample(sample.get("x"), flag)).toList();
            OutputFidelity fidelity = fidelity(model, result.model(), samples);
            assertTrue(fidelity.meanCosine() > 0.2 && fidelity.meanCosine() < 0.9999, "flag " + flag + ": " + fidelity);
        }
        assertEquals(model.weights().totalElements() - 2L * (64 * 64 - 8 * 128), result.model().weights().totalElements());
    }

    @Test
    void realCnnWithConstantNodeWeightsSkipsDepthwiseConvolutions() throws Exception {
        OnnxModel model = OnnxModel.load(RealModels.OCR_CLASSIFIER.copyTo(temp));
        PluginResult result = apply(model, Map.of("rank-ratio", "0.25"));

        assertTrue(result.figures().get("layers-factored") > 4, result.changes().toString());
        assertTrue(result.skipped().stream().anyMatch(s -> s.reason().startsWith("depthwise convolution (group=")),
                result.skipped().toString());
        assertTrue(result.figures().get("parameters-after") < result.figures().get("parameters-before"));
        assertEquals(result.model().weights().totalElements(), result.figures().get("parameters-after"));
        assertSameSignature(model, result.model());
        SplittableRandom random = new SplittableRandom(1);
        float[] image = new float[3 * 48 * 192];
        for (int i = 0; i < image.length; i++) {
            image[i] = (float) random.nextDouble(-1, 1);
        }
        List<Map<String, TensorData>> samples = List.of(Map.of("x", TensorData.ofFloats(new long[] {1, 3, 48, 192}, image)));
        OutputFidelity fidelity = fidelity(model, result.model(), samples);
        assertTrue(Double.isFinite(fidelity.meanCosine()), fidelity.toString());
    }

    @Test
    void randomWeightsThatWouldNotSaveAreSkippedWithTheReason() throws Exception {
        OnnxModel model = TestModels.mlp(64, 64, 64, 3);
        PluginResult result = apply(model, Map.of("energy", "0.99"));

        assertEquals(0.0, result.figures().get("layers-factored"));
        assertEquals(model.proto(), result.model().proto());
        assertTrue(result.skipped().stream().filter(s -> s.part().contains("'fc"))
                .allMatch(s -> s.reason().startsWith("no saving: energy 0.99 needs rank")), result.skipped().toString());
        assertTrue(result.changes().get(0).startsWith("no layer factored"), result.changes().toString());
    }

    @Test
    void aRankLargerThanALayerAllowsIsAnErrorNamingTheLayer() {
        OnnxModel model = TestModels.mlp(64, 64, 16, 3);
        PluginException error = assertThrows(PluginException.class, () -> apply(model, Map.of("rank", "20")));
        assertTrue(error.getMessage().contains("'fc2' (MatMul, weight 'w2' [64,16])"), error.getMessage());
        assertTrue(error.getMessage().contains("min(rows, cols) = 16"), error.getMessage());
    }

    @Test
    void exclusionsByNodeNameAndOperatorType() throws Exception {
        OnnxModel model = TestModels.mlp(64, 64, 64, 3);
        PluginResult byName = apply(model, Map.of("rank", "8", "exclude", "fc1"));
        assertEquals(1.0, byName.figures().get("layers-factored"));
        assertTrue(byName.skipped().stream().anyMatch(s -> s.part().startsWith("'fc1'") && s.reason().contains("excluded")));

        PluginResult byType = apply(model, Map.of("rank", "8", "exclude", "MatMul"));
        assertEquals(1.0, byType.figures().get("layers-factored"));
        assertTrue(byType.changes().get(0).startsWith("'fc1'"), byType.changes().toString());
    }

    @Test
    void unknownExclusionsAreAnErrorListingThem() {
        OnnxModel model = TestModels.mlp(64, 64, 64, 3);
        PluginException error = assertThrows(PluginException.class,
                () -> apply(model, Map.of("exclude", "fc1,fc9,Conv2d")));
        assertTrue(error.getMessage().contains("of this model: fc9, Conv2d;"), error.getMessage());
        assertTrue(error.getMessage().contains("layers that can be factored: fc1, fc2"), error.getMessage());
    }

    @Test
    void rankAndRankRatioTogetherAreRefused() {
        PluginException error = assertThrows(PluginException.class,
                () -> apply(TestModels.mlp(8, 8, 8, 1), Map.of("rank", "2", "rank-ratio", "0.5")));
        assertTrue(error.getMessage().contains("'rank' and 'rank-ratio'"), error.getMessage());
    }

    @Test
    void energyOutsideItsRangeIsRefusedByTheOptions() {
        assertThrows(IllegalArgumentException.class, () -> PluginOptions.resolve(plugin.options(), Map.of("energy", "1.0")));
        assertThrows(IllegalArgumentException.class, () -> PluginOptions.resolve(plugin.options(), Map.of("energy", "0")));
    }

    @Test
    void reportsProgressAndStopsWhenCancelled() throws Exception {
        OnnxModel model = TestModels.mlp(64, 64, 64, 3);
        PluginTestContext context = PluginTestContext.in(temp);
        plugin.apply(model, PluginOptions.resolve(plugin.options(), Map.of("rank", "8")), context);
        List<PluginTestContext.Progress> progress = context.progressReports();
        assertTrue(progress.size() >= 3, progress.toString());
        for (int i = 1; i < progress.size(); i++) {
            assertTrue(progress.get(i).fraction() >= progress.get(i - 1).fraction(), "progress never goes back: " + progress);
        }
        assertEquals(1.0, progress.get(progress.size() - 1).fraction());

        PluginTestContext cancelled = PluginTestContext.in(temp);
        cancelled.cancel();
        assertThrows(CancellationException.class,
                () -> plugin.apply(model, PluginOptions.resolve(plugin.options(), Map.of("rank", "8")), cancelled));
    }

    // ---- helpers

    private PluginResult apply(OnnxModel model, Map<String, String> options) throws PluginException {
        return plugin.apply(model, PluginOptions.resolve(plugin.options(), options), PluginTestContext.in(temp));
    }

    /** TestModels.mlp with both layer weights replaced by exact rank-{@code rank} products. */
    static OnnxModel lowRankMlp(int in, int hidden, int out, int rank, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        OnnxModel mlp = TestModels.mlp(in, hidden, out, seed);
        OnnxModel first = replace(mlp, "w1", Tensors.ofFloats("w1", new long[] {in, hidden}, product(random, in, rank, hidden)));
        return replace(first, "w2", Tensors.ofFloats("w2", new long[] {hidden, out}, product(random, hidden, rank, out)));
    }

    /** A rows × cols matrix of rank {@code rank}: the product of two random matrices. */
    static float[] product(SplittableRandom random, int rows, int rank, int cols) {
        double[] a = new double[rows * rank];
        double[] b = new double[rank * cols];
        for (int i = 0; i < a.length; i++) {
            a[i] = random.nextDouble(-1, 1);
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = random.nextDouble(-1, 1);
        }
        float[] out = new float[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double sum = 0;
                for (int t = 0; t < rank; t++) {
                    sum += a[i * rank + t] * b[t * cols + j];
                }
                out[i * cols + j] = (float) (sum / rank);
            }
        }
        return out;
    }

    static OnnxModel replace(OnnxModel model, String name, TensorProto tensor) {
        Weight weight = model.weights().all().stream().filter(w -> w.name().equals(name)).findFirst().orElseThrow();
        return model.withProto(WeightIndex.replace(model.proto(), Map.of(weight.ref(), tensor)));
    }

    private static TensorProto tensor(OnnxModel model, String name) {
        Weight weight = model.weights().all().stream().filter(w -> w.name().equals(name)).findFirst().orElseThrow();
        return model.weights().tensor(weight.ref());
    }

    static List<Map<String, TensorData>> samples(OnnxModel model, int count) {
        try (OrtRunner runner = OrtRunner.open(model)) {
            return new InputGenerator(2, 32).generate(runner.inputSpecs(), count, 42);
        }
    }

    /** Inputs for models whose inputs are all fixed-size. */
    static List<Map<String, TensorData>> fixedSamples(OnnxModel model, int count) {
        try (OrtRunner runner = OrtRunner.open(model)) {
            return InputGenerator.defaults().generate(runner.inputSpecs(), count, 42);
        }
    }

    static OutputFidelity fidelity(OnnxModel original, OnnxModel compressed, List<Map<String, TensorData>> samples) {
        return ModelChecks.fidelity(original, compressed, samples);
    }

    private static void assertSameOutputs(OnnxModel expected, OnnxModel actual, List<Map<String, TensorData>> samples,
            float tolerance) {
        try (OrtRunner before = OrtRunner.open(expected); OrtRunner after = OrtRunner.open(actual)) {
            for (Map<String, TensorData> sample : samples) {
                Map<String, TensorData> want = before.run(sample);
                Map<String, TensorData> got = after.run(sample);
                assertEquals(want.keySet(), got.keySet());
                want.forEach((name, value) -> {
                    float[] w = value.toFloats();
                    float[] g = got.get(name).toFloats();
                    float scale = 0;
                    for (float v : w) {
                        scale = Math.max(scale, Math.abs(v));
                    }
                    assertArrayEquals(w, g, tolerance * Math.max(1, scale), name);
                });
            }
        }
    }

    /** Same inputs and outputs, by name, element type and shape, as ONNX Runtime sees them. */
    static void assertSameSignature(OnnxModel original, OnnxModel compressed) {
        GraphProto before = original.proto().getGraph();
        GraphProto after = compressed.proto().getGraph();
        assertEquals(before.getInputList(), after.getInputList());
        assertEquals(before.getOutputList(), after.getOutputList());
        try (OrtRunner a = OrtRunner.open(original); OrtRunner b = OrtRunner.open(compressed)) {
            assertEquals(a.inputNames(), b.inputNames());
            assertEquals(a.outputNames(), b.outputNames());
            Map<String, String> left = new HashMap<>();
            Map<String, String> right = new HashMap<>();
            a.inputSpecs().forEach((k, v) -> left.put(k, v.type() + java.util.Arrays.toString(v.shape())));
            b.inputSpecs().forEach((k, v) -> right.put(k, v.type() + java.util.Arrays.toString(v.shape())));
            assertEquals(left, right);
        }
    }

}

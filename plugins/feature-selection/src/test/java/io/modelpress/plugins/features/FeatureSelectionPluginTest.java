package io.modelpress.plugins.features;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.inference.OrtRunner;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.model.WeightIndex;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.SelectedFeatures;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.PluginTestContext;
import io.modelpress.testkit.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FeatureSelectionPluginTest {

    private final FeatureSelectionPlugin plugin = new FeatureSelectionPlugin();

    @TempDir
    Path temp;

    @Test
    void featuresWithNegligibleWeightsLeaveTheInputAndTheWeight() throws Exception {
        int[] faint = {3, 10, 17, 31};
        OnnxModel model = scaleRows(TestModels.mlp(32, 24, 5, 1), "w1", 24, faint, 1e-6f);
        ModelProto untouched = model.proto();
        PluginResult result = apply(model, Map.of(), PluginTestContext.in(temp));

        assertEquals(untouched, model.proto(), "the input model is not changed");
        int[] kept = IntStream.range(0, 32).filter(j -> Arrays.stream(faint).noneMatch(f -> f == j)).toArray();
        assertEquals(28.0, result.figures().get("features-after"));
        assertEquals(model.weights().totalElements() - 4 * 24, result.figures().get("parameters-after"));
        assertEquals(List.of(28L, 24L), tensor(result.model(), "w1").getDimsList());
        assertEquals("0-2,4-9,11-16,18-30", metadata(result.model(), "feature-selection:x"));
        assertTrue(result.changes().get(1).endsWith("(original indices): 0-2,4-9,11-16,18-30 (also in metadata"
                + " 'feature-selection:x' and selected-features.json)"), result.changes().get(1));
        String json = Files.readString(result.artifacts().get("selected-features.json"));
        assertTrue(json.contains("\"kept\": [0, 1, 2, 4, 5,"), json);
        assertTrue(result.skipped().stream().anyMatch(s -> s.reason().contains("not measured")), result.skipped().toString());
        try (OrtRunner runner = OrtRunner.open(result.model())) {
            assertEquals(List.of(-1L, 28L), List.of(runner.inputSpecs().get("x").shape()[0], runner.inputSpecs().get("x").shape()[1]));
        }
        assertEquals(model.proto().getGraph().getOutputList(), result.model().proto().getGraph().getOutputList());
        List<Map<String, TensorData>> samples = randomRows("x", 32, 16, 3, 5);
        assertSameOutputs(model, result.model(), samples, kept, 1e-4f);
    }

    @Test
    void constantFeaturesOfTheCalibrationDataFoldIntoTheGemmBias() throws Exception {
        OnnxModel model = TestModels.mlp(16, 24, 4, 2);
        List<Map<String, TensorData>> samples = randomRows("x", 16, 32, 4, 7, 2, 2.5f, 9, -1f);
        PluginResult result = apply(model, Map.of(), PluginTestContext.in(temp).withCalibration(CalibrationData.of(samples)));

        int[] kept = IntStream.range(0, 16).filter(j -> j != 2 && j != 9).toArray();
        assertEquals("0-1,3-8,10-15", metadata(result.model(), "feature-selection:x"));
        assertTrue(result.changes().get(0).contains("folded in: into the bias 'b1'"), result.changes().get(0));
        assertTrue(result.changes().get(0).contains("measured on 128 calibration rows"), result.changes().get(0));
        assertEquals(1.0, result.figures().get("mean-cosine"), 1e-6);
        assertEquals(1.0, result.figures().get("top1-agreement"));
        assertSameOutputs(model, result.model(), samples, kept, 1e-5f);
    }

    @Test
    void aMatMulLayerGetsAnAddForTheRemovedFeaturesMeans() throws Exception {
        SplittableRandom random = new SplittableRandom(3);
        GraphProto graph = GraphProto.newBuilder().setName("linear")
                .addInput(Nodes.tensorValue("features", DataType.FLOAT, "batch", 12))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", 8))
                .addInitializer(TestModels.floats("w", random, 12, 8))
                .addNode(Nodes.node("MatMul", "mm", List.of("features", "w"), List.of("y")))
                .build();
        OnnxModel model = TestModels.model(graph);
        List<Map<String, TensorData>> samples = randomRows("features", 12, 16, 2, 9, 5, 3f);
        PluginResult result = apply(model, Map.of(), PluginTestContext.in(temp).withCalibration(CalibrationData.of(samples)));

        List<String> ops = result.model().proto().getGraph().getNodeList().stream().map(NodeProto::getOpType).toList();
        assertEquals(List.of("MatMul", "Add"), ops);
        assertTrue(result.changes().get(0).contains("by an Add after the layer"), result.changes().get(0));
        assertSameOutputs(model, result.model(), samples, IntStream.range(0, 12).filter(j -> j != 5).toArray(), 1e-5f);
    }

    @Test
    void aGemmWithTransposedWeightAndNoBiasLosesColumnsAndGainsABias() throws Exception {
        SplittableRandom random = new SplittableRandom(4);
        GraphProto graph = GraphProto.newBuilder().setName("gemm")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", 10))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", 6))
                .addInitializer(TestModels.floats("w", random, 6, 10))
                .addNode(Nodes.node("Gemm", "g", List.of("x", "w"), List.of("y"), Nodes.attr("transB", 1L),
                        Nodes.attr("alpha", 0.5f), Nodes.attr("beta", 3f)))
                .build();
        OnnxModel model = TestModels.model(graph);
        List<Map<String, TensorData>> samples = randomRows("x", 10, 8, 2, 11, 0, 1.5f, 7, -2f);
        PluginResult result = apply(model, Map.of(), PluginTestContext.in(temp).withCalibration(CalibrationData.of(samples)));

        assertEquals(List.of(6L, 8L), tensor(result.model(), "w").getDimsList());
        assertEquals(3, result.model().proto().getGraph().getNode(0).getInputCount(), "the Gemm has a bias now");
        assertSameOutputs(model, result.model(), samples, new int[] {1, 2, 3, 4, 5, 6, 8, 9}, 1e-5f);
    }

    @Test
    void aSecondRunStillListsIndicesOfTheOriginalInput() throws Exception {
        OnnxModel model = scaleRows(TestModels.mlp(32, 24, 5, 1), "w1", 24, new int[] {3, 10, 17, 31}, 1e-6f);
        OnnxModel once = apply(model, Map.of(), PluginTestContext.in(temp)).model();
        // features 4 and 5 of the narrowed input are 5 and 6 of the original
        OnnxModel faint = scaleRows(once, "w1", 24, new int[] {4, 5}, 1e-6f);
        PluginResult twice = apply(faint, Map.of(), PluginTestContext.in(temp));

        assertEquals(26.0, twice.figures().get("features-after"));
        assertEquals("0-2,4,7-9,11-16,18-30", metadata(twice.model(), "feature-selection:x"));
        assertSameOutputs(faint, twice.model(), randomRows("x", 28, 8, 2, 5), new int[] {0, 1, 2, 3, 6, 7, 8, 9, 10, 11,
            12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27}, 1e-4f);
    }

    @Test
    void keepRatioKeepsTheFeaturesWithTheLargestWeightRows() throws Exception {
        OnnxModel model = TestModels.mlp(20, 16, 3, 5);
        PluginResult result = apply(model, Map.of("keep-ratio", "0.4"), PluginTestContext.in(temp));

        float[] w = Tensors.toFloats(tensor(model, "w1"));
        double[] norms = new double[20];
        for (int j = 0; j < 20; j++) {
            for (int h = 0; h < 16; h++) {
                norms[j] += w[j * 16 + h] * w[j * 16 + h];
            }
        }
        int[] strongest = IntStream.range(0, 20).boxed().sorted((a, b) -> Double.compare(norms[b], norms[a])).limit(8)
                .mapToInt(Integer::intValue).sorted().toArray();
        assertEquals(8.0, result.figures().get("features-after"));
        assertEquals(new SelectedFeatures("x", strongest).metadataValue(), metadata(result.model(), "feature-selection:x"));
    }

    @Test
    void theFidelityLimitShrinksACutThatLosesTooMuch() throws Exception {
        OnnxModel model = graded(TestModels.mlp(24, 32, 6, 6), 24, 32);
        List<Map<String, TensorData>> samples = randomRows("x", 24, 64, 2, 13);
        PluginTestContext context = PluginTestContext.in(temp).withCalibration(CalibrationData.of(samples));
        PluginResult result = apply(model, Map.of("keep-ratio", "0.25", "max-fidelity-loss", "0.02"), context);

        double removed = result.figures().get("features-removed");
        assertTrue(removed >= 1 && removed < 18, "removed " + removed);
        assertTrue(result.figures().get("fidelity-loss") <= 0.02, result.changes().toString());
        assertTrue(result.skipped().stream().anyMatch(s -> s.part().startsWith((int) (18 - removed) + " more low-scoring")),
                result.skipped().toString());
        int[] kept = parseRanges(metadata(result.model(), "feature-selection:x"));
        double cosine = meanCosine(model, result.model(), samples, kept);
        assertEquals(cosine, result.figures().get("mean-cosine"), 1e-6);
        assertTrue(1 - cosine <= 0.02, "measured again: " + cosine);

        PluginResult unlimited = apply(model, Map.of("keep-ratio", "0.25", "max-fidelity-loss", "1"), context);
        assertEquals(18.0, unlimited.figures().get("features-removed"));
        assertTrue(unlimited.figures().get("fidelity-loss") > 0.02, unlimited.changes().toString());
    }

    @Test
    void aModelWithoutAFlatFeatureInputHasNothingToSelect() {
        PluginException cnn = assertThrows(PluginException.class,
                () -> apply(TestModels.cnn(8, 4, 1), Map.of(), PluginTestContext.in(temp)));
        assertTrue(cnn.getMessage().startsWith("nothing to select: feature selection needs a float input [N, F] read"
                + " only by one MatMul or Gemm, and input 'x' has rank 4, not [N, F]"), cnn.getMessage());

        PluginException branch = assertThrows(PluginException.class,
                () -> apply(TestModels.withIfSubgraph(16, 8, 1), Map.of(), PluginTestContext.in(temp)));
        assertTrue(branch.getMessage().contains("input 'x' is read by MatMul in main/"), branch.getMessage());
        assertTrue(branch.getMessage().contains("input 'flag' is not a float32 tensor"), branch.getMessage());
    }

    @Test
    void aModelWhoseFeaturesAllMatterSaysSo() {
        PluginException error = assertThrows(PluginException.class,
                () -> apply(TestModels.mlp(16, 16, 4, 8), Map.of(), PluginTestContext.in(temp)));
        assertTrue(error.getMessage().startsWith("nothing to select: every one of the 16 features scores at least 0.01"
                + " of the largest"), error.getMessage());
    }

    @Test
    void badOptionsAndDataAreClearErrors() {
        OnnxModel model = TestModels.mlp(16, 16, 4, 8);
        PluginException input = assertThrows(PluginException.class,
                () -> apply(model, Map.of("input", "pixels"), PluginTestContext.in(temp)));
        assertEquals("option 'input' names no input of this model: pixels; inputs: x", input.getMessage());

        CalibrationData wrong = CalibrationData.of(randomRows("y", 16, 4, 1, 1));
        PluginException data = assertThrows(PluginException.class,
                () -> apply(model, Map.of(), PluginTestContext.in(temp).withCalibration(wrong)));
        assertEquals("the calibration data has no input 'x' (it has y)", data.getMessage());

        CalibrationData narrow = CalibrationData.of(randomRows("x", 12, 4, 1, 1));
        PluginException shape = assertThrows(PluginException.class,
                () -> apply(model, Map.of(), PluginTestContext.in(temp).withCalibration(narrow)));
        assertEquals("calibration sample 0 gives input 'x' as float [4,12], not float [N, 16]", shape.getMessage());

        PluginException all = assertThrows(PluginException.class,
                () -> apply(model, Map.of("keep-ratio", "1"), PluginTestContext.in(temp)));
        assertTrue(all.getMessage().startsWith("nothing to select: option 'keep-ratio' = 1.0 keeps all 16"), all.getMessage());
    }

    @Test
    void reportsProgressAndStopsWhenCancelled() throws Exception {
        OnnxModel model = graded(TestModels.mlp(24, 32, 6, 6), 24, 32);
        CalibrationData data = CalibrationData.of(randomRows("x", 24, 16, 2, 13));
        PluginTestContext context = PluginTestContext.in(temp).withCalibration(data);
        apply(model, Map.of("keep-ratio", "0.25"), context);
        List<PluginTestContext.Progress> progress = context.progressReports();
        assertTrue(progress.size() >= 4, progress.toString());
        for (int i = 1; i < progress.size(); i++) {
            assertTrue(progress.get(i).fraction() >= progress.get(i - 1).fraction(), progress.toString());
        }
        assertEquals(1.0, progress.get(progress.size() - 1).fraction());

        PluginTestContext cancelled = PluginTestContext.in(temp).withCalibration(data);
        cancelled.cancel();
        assertThrows(CancellationException.class, () -> apply(model, Map.of("keep-ratio", "0.25"), cancelled));
    }

    @Test
    void theHostFindsThePluginByItsId() {
        Set<String> ids = new java.util.HashSet<>();
        ServiceLoader.load(CompressionPlugin.class).forEach(p -> ids.add(p.id()));
        assertTrue(ids.contains("feature-selection"), ids.toString());
    }

    // ---- helpers

    private PluginResult apply(OnnxModel model, Map<String, String> options, PluginTestContext context)
            throws PluginException {
        return plugin.apply(model, PluginOptions.resolve(plugin.options(), options), context);
    }

    /**
     * {@code count} samples of {@code rows} × {@code features} uniform values in [-1, 1); pairs of
     * (feature, value) in {@code constants} hold that feature at that value in every row.
     */
    static List<Map<String, TensorData>> randomRows(String input, int features, int rows, int count, long seed,
            float... constants) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Map<String, TensorData>> samples = new ArrayList<>();
        for (int s = 0; s < count; s++) {
            float[] values = new float[rows * features];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) random.nextDouble(-1, 1);
            }
            for (int c = 0; c < constants.length; c += 2) {
                for (int r = 0; r < rows; r++) {
                    values[r * features + (int) constants[c]] = constants[c + 1];
                }
            }
            samples.add(Map.of(input, TensorData.ofFloats(new long[] {rows, features}, values)));
        }
        return samples;
    }

    /** The same sample with only the {@code kept} columns of its one input. */
    static Map<String, TensorData> narrow(Map<String, TensorData> sample, int[] kept) {
        Map.Entry<String, TensorData> entry = sample.entrySet().iterator().next();
        long[] shape = entry.getValue().shape();
        float[] values = entry.getValue().toFloats();
        int rows = (int) shape[0];
        int features = (int) shape[1];
        float[] out = new float[rows * kept.length];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < kept.length; i++) {
                out[r * kept.length + i] = values[r * features + kept[i]];
            }
        }
        return Map.of(entry.getKey(), TensorData.ofFloats(new long[] {rows, kept.length}, out));
    }

    /** The original on full rows and the narrowed model on the kept columns give the same outputs. */
    static void assertSameOutputs(OnnxModel original, OnnxModel narrowed, List<Map<String, TensorData>> samples,
            int[] kept, float tolerance) {
        try (OrtRunner before = OrtRunner.open(original); OrtRunner after = OrtRunner.open(narrowed)) {
            assertEquals(before.outputNames(), after.outputNames());
            for (Map<String, TensorData> sample : samples) {
                Map<String, TensorData> want = before.run(sample);
                Map<String, TensorData> got = after.run(narrow(sample, kept));
                want.forEach((name, value) -> {
                    assertArrayEquals(value.shape(), got.get(name).shape(), name);
                    assertArrayEquals(value.toFloats(), got.get(name).toFloats(), tolerance, name);
                });
            }
        }
    }

    /** Mean cosine of output rows, computed here independently of the plugin. */
    static double meanCosine(OnnxModel original, OnnxModel narrowed, List<Map<String, TensorData>> samples, int[] kept) {
        double sum = 0;
        int rows = 0;
        try (OrtRunner before = OrtRunner.open(original); OrtRunner after = OrtRunner.open(narrowed)) {
            for (Map<String, TensorData> sample : samples) {
                TensorData want = before.run(sample).get("y");
                float[] a = want.toFloats();
                float[] b = after.run(narrow(sample, kept)).get("y").toFloats();
                int width = (int) want.shape()[1];
                for (int r = 0; r < a.length / width; r++) {
                    double dot = 0;
                    double na = 0;
                    double nb = 0;
                    for (int c = r * width; c < (r + 1) * width; c++) {
                        dot += a[c] * b[c];
                        na += a[c] * a[c];
                        nb += b[c] * b[c];
                    }
                    sum += dot / Math.sqrt(na * nb);
                    rows++;
                }
            }
        }
        return sum / rows;
    }

    static int[] parseRanges(String ranges) {
        return SelectedFeatures.parseRanges(ranges).orElseThrow(() -> new AssertionError("not ranges: " + ranges));
    }

    static String metadata(OnnxModel model, String key) {
        return model.proto().getMetadataPropsList().stream().filter(p -> p.getKey().equals(key))
                .map(StringStringEntryProto::getValue).findFirst().orElseThrow(() -> new AssertionError("no " + key));
    }

    static TensorProto tensor(OnnxModel model, String name) {
        Weight weight = model.weights().all().stream().filter(w -> w.name().equals(name)).findFirst().orElseThrow();
        return model.weights().tensor(weight.ref());
    }

    /** The MLP with row j of its first weight scaled by 0.8^j: features that matter less and less. */
    static OnnxModel graded(OnnxModel mlp, int features, int hidden) {
        OnnxModel model = mlp;
        for (int j = 1; j < features; j++) {
            model = scaleRows(model, "w1", hidden, new int[] {j}, (float) Math.pow(0.8, j));
        }
        return model;
    }

    /** The model with rows {@code rows} of the F × H weight {@code name} multiplied by {@code factor}. */
    static OnnxModel scaleRows(OnnxModel model, String name, int hidden, int[] rows, float factor) {
        TensorProto tensor = tensor(model, name);
        float[] values = Tensors.toFloats(tensor);
        for (int row : rows) {
            for (int h = 0; h < hidden; h++) {
                values[row * hidden + h] *= factor;
            }
        }
        Weight weight = model.weights().all().stream().filter(w -> w.name().equals(name)).findFirst().orElseThrow();
        long[] dims = tensor.getDimsList().stream().mapToLong(Long::longValue).toArray();
        return model.withProto(WeightIndex.replace(model.proto(), Map.of(weight.ref(), Tensors.ofFloats(name, dims, values))));
    }
}

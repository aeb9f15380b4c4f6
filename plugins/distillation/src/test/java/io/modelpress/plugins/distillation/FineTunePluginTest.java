package io.modelpress.plugins.distillation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.PluginTestContext;
import io.modelpress.testkit.TestModels;
import io.modelpress.testkit.TinyBert;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fine-tuning keeps what earlier steps imposed, changes nothing else, and repeats itself for a seed. */
class FineTunePluginTest {

    /** Few rows and epochs: enough to move every free weight, cheap on two shared cores. */
    private static final Map<String, String> QUICK = Map.of("epochs", "2", "patience", "0", "learning-rate", "0.001");

    @TempDir
    Path temp;

    @Test
    void prunedZerosStayZeroAndTheRestRecovers() throws Exception {
        OnnxModel pruned = pruned(MnistModels.mlp(), 0.9);
        PluginResult result = fineTune(pruned, QUICK, 0, 1000);

        assertTrue(result.figures().get("best-epoch") >= 1, "training beat the pruned weights: " + result.changes());
        int moved = 0;
        for (String name : weightNames(pruned)) {
            float[] before = values(pruned, name);
            float[] after = values(result.model(), name);
            for (int i = 0; i < before.length; i++) {
                if (before[i] == 0f) {
                    assertEquals(0f, after[i], "pruned position " + i + " of " + name + " stays zero");
                } else if (after[i] != before[i]) {
                    moved++;
                }
            }
        }
        assertTrue(moved > 1000, "unpruned weights train: " + moved);
        assertTrue(result.figures().get("holdout-accuracy-after") > result.figures().get("holdout-accuracy-before"),
                "the held-out rows judge it better: " + result.changes());
    }

    @Test
    void sharedWeightsMoveAsClustersAndKeepTheirAssignments() throws Exception {
        OnnxModel shared = shared(MnistModels.mlp(), 16);
        PluginResult result = fineTune(shared, QUICK, 0, 1000);

        assertEquals(3.0, result.figures().get("shared-tensors"), "every weight matrix is recognised as shared");
        for (String name : weightNames(shared)) {
            float[] before = values(shared, name);
            float[] after = values(result.model(), name);
            Map<Float, Float> codebook = new HashMap<>();
            for (int i = 0; i < before.length; i++) {
                Float earlier = codebook.putIfAbsent(before[i], after[i]);
                assertTrue(earlier == null || earlier == after[i], "every member of cluster " + before[i] + " of "
                        + name + " has one value after training: " + earlier + " vs " + after[i]);
            }
            Set<Float> distinct = new HashSet<>(codebook.values());
            assertEquals(codebook.size(), distinct.size(), name + " keeps " + codebook.size() + " distinct values");
            assertFalse(codebook.entrySet().stream().allMatch(e -> e.getKey().equals(e.getValue())),
                    "the codebook of " + name + " is trained");
        }
    }

    @Test
    void theSameSeedGivesTheSameBytesAndAnotherSeedOthers() throws Exception {
        OnnxModel pruned = pruned(MnistModels.mlp(), 0.8);
        Map<String, String> options = new HashMap<>(QUICK);
        options.put("epochs", "1");
        byte[] first = fineTune(pruned, options, 0, 400).model().toByteArray();
        byte[] again = fineTune(pruned, options, 0, 400).model().toByteArray();
        options.put("seed", "7");
        byte[] otherSeed = fineTune(pruned, options, 0, 400).model().toByteArray();
        assertArrayEquals(first, again, "seed 42 twice");
        assertFalse(Arrays.equals(first, otherSeed), "seed 7 draws another split and order");
    }

    @Test
    void withoutLabelsTheModelsOwnOutputsAreTheTargets() throws Exception {
        OnnxModel pruned = pruned(MnistModels.mlp(), 0.9);
        CompressionPlugin plugin = new FineTunePlugin();
        PluginTestContext context = PluginTestContext.in(temp).withCalibration(
                io.modelpress.spi.CalibrationData.of(unlabelled(0, 600)));
        PluginResult result = plugin.apply(pruned, PluginOptions.resolve(plugin.options(), QUICK), context);
        assertTrue(result.skipped().stream().anyMatch(s -> s.part().equals("labels")), result.skipped().toString());
        assertTrue(result.figures().get("holdout-agreement") >= 0.9, result.changes().toString());
    }

    /**
     * After a hard cut, unlabelled data teaches only through the targets: the pruned model's own outputs
     * are the damage itself (nothing to learn), the original's are what it lost. Judged in ONNX Runtime on
     * digits no step saw, by agreement with the original's top class.
     */
    @Test
    void withoutLabelsThePrunedModelLearnsTheOriginalsOutputsBack() throws Exception {
        OnnxModel original = MnistModels.mlp();
        OnnxModel pruned = pruned(original, 0.95);
        CompressionPlugin plugin = new FineTunePlugin();
        PluginOptions options = PluginOptions.resolve(plugin.options(), QUICK);
        io.modelpress.spi.CalibrationData digits = io.modelpress.spi.CalibrationData.of(unlabelled(0, 1000));
        PluginResult fromOriginal = plugin.apply(pruned, options,
                PluginTestContext.in(temp).withCalibration(digits).withOriginal(original));
        PluginResult fromInput = plugin.apply(pruned, options, PluginTestContext.in(temp).withCalibration(digits));

        int from = MnistModels.TRAIN;
        int to = MnistModels.TRAIN + 2000;
        double cut = MnistModels.agreement(original, pruned, from, to);
        double taught = MnistModels.agreement(original, fromOriginal.model(), from, to);
        double selfTaught = MnistModels.agreement(original, fromInput.model(), from, to);
        assertEquals(1.0, fromOriginal.figures().get("targets-from-original"));
        assertTrue(fromOriginal.changes().stream().anyMatch(c -> c.startsWith("soft targets: the outputs of the original"
                + " model")), fromOriginal.changes().toString());
        assertTrue(taught > cut + 0.03, "agreement with the original's top-1 on held-out digits: pruned " + cut
                + ", fine-tuned towards the original " + taught + "\n" + fromOriginal.changes());
        assertTrue(fromOriginal.figures().get("holdout-agreement")
                > fromOriginal.figures().get("holdout-agreement-before"), fromOriginal.changes().toString());
        assertEquals(0.0, fromInput.figures().get("targets-from-original"));
        assertTrue(taught > selfTaught + 0.02, "the pruned model's own outputs teach less: " + selfTaught + " vs "
                + taught + "\n" + fromInput.changes());
    }

    /** The report's before is this step's input, not the original; the original's accuracy is beside it. */
    @Test
    void withLabelsTheReportComparesTheInputWithTheTrainedModelAndNamesTheOriginal() throws Exception {
        OnnxModel original = MnistModels.mlp();
        OnnxModel pruned = pruned(original, 0.95);
        CompressionPlugin plugin = new FineTunePlugin();
        Map<String, String> options = new HashMap<>(QUICK);
        options.put("alpha", "0.9");
        PluginResult result = plugin.apply(pruned, PluginOptions.resolve(plugin.options(), options),
                PluginTestContext.in(temp).withCalibration(calibration(0, 1000)).withOriginal(original));
        Map<String, Double> figures = result.figures();
        assertTrue(figures.get("holdout-accuracy-original") > figures.get("holdout-accuracy-before"),
                "the pruned input is worse than the original on the held-out rows: " + figures);
        assertTrue(figures.get("holdout-accuracy-after") > figures.get("holdout-accuracy-before"), figures.toString());
    }

    @Test
    void anOriginalWithAnotherInputCannotTeachAndTheReportSaysWhy() throws Exception {
        OnnxModel other = TestModels.mlp(8, 16, 10, 1);
        CompressionPlugin plugin = new FineTunePlugin();
        PluginResult result = plugin.apply(pruned(MnistModels.mlp(), 0.5), PluginOptions.resolve(plugin.options(),
                Map.of("epochs", "1")), PluginTestContext.in(temp).withCalibration(calibration(0, 400)).withOriginal(other));
        assertEquals(0.0, result.figures().get("targets-from-original"));
        assertTrue(result.changes().stream().anyMatch(c -> c.startsWith("soft targets: the outputs of this step's input"
                + " model: the original cannot teach it, it takes input")), result.changes().toString());
    }

    @Test
    void cancellationStopsTrainingAndProgressStaysInOrder() throws Exception {
        CompressionPlugin plugin = new FineTunePlugin();
        PluginTestContext context = PluginTestContext.in(temp).withCalibration(calibration(0, 400));
        plugin.apply(MnistModels.mlp(), PluginOptions.resolve(plugin.options(), Map.of("epochs", "1")), context);
        List<PluginTestContext.Progress> reports = context.progressReports();
        for (int i = 1; i < reports.size(); i++) {
            assertTrue(reports.get(i).fraction() >= reports.get(i - 1).fraction(), "progress never goes back: " + reports);
        }
        assertEquals(1.0, reports.get(reports.size() - 1).fraction());
        PluginTestContext cancelled = PluginTestContext.in(temp).withCalibration(calibration(0, 400));
        cancelled.cancel();
        assertThrows(CancellationException.class, () -> plugin.apply(MnistModels.mlp(),
                PluginOptions.defaults(plugin.options()), cancelled));
    }

    /** What the planner asks before it offers a retraining chain. */
    @Test
    void modelsItCannotTrainAreNamedWithTheReasonBeforeAnyStepRuns() {
        CompressionPlugin fineTune = new FineTunePlugin();
        assertEquals(Optional.empty(), fineTune.unsuitable(TestModels.mlp(8, 16, 3, 1)));
        GraphProto.Builder graph = TestModels.mlp(8, 16, 3, 1).proto().getGraph().toBuilder();
        graph.getNodeBuilderList().stream().filter(node -> node.getOpType().equals("Relu")).findFirst()
                .orElseThrow().setOpType("Selu");
        Optional<String> selu = fineTune.unsuitable(TestModels.model(graph.build()));
        assertTrue(selu.orElse("").contains("it uses Selu (node"), () -> "reason: " + selu);
        Optional<String> encoder = fineTune.unsuitable(TinyBert.model(1, 16, 2, 1));
        assertTrue(encoder.isPresent(), "a transformer encoder is not trainable here");
    }

    @Test
    void withoutDataItSaysWhatToSupply() {
        CompressionPlugin plugin = new FineTunePlugin();
        PluginException refused = assertThrows(PluginException.class, () -> plugin.apply(MnistModels.mlp(),
                PluginOptions.defaults(plugin.options()), PluginTestContext.in(temp)));
        assertTrue(refused.getMessage().startsWith("no data: fine-tune trains on the request's calibration data"),
                refused.getMessage());
    }

    @Test
    void regularizeDrivesWeightsTowardsZero() throws Exception {
        Map<String, String> options = Map.of("epochs", "2", "patience", "0", "learning-rate", "0.001");
        PluginResult plain = apply(new FineTunePlugin(), MnistModels.mlp(), options, 0, 1000);
        Map<String, String> penalised = new HashMap<>(options);
        penalised.put("l1", "0.0005");
        PluginResult sparse = apply(new RegularizePlugin(), MnistModels.mlp(), penalised, 0, 1000);
        assertTrue(sparse.figures().get("near-zero-weights") > 2 * plain.figures().get("near-zero-weights"),
                "L1 leaves more weights near zero: " + sparse.figures() + " vs " + plain.figures());
    }

    @Test
    void groupLassoShrinksWholeChannels() throws Exception {
        Map<String, String> options = new HashMap<>(Map.of("epochs", "3", "patience", "0", "learning-rate", "0.002",
                "l1", "0"));
        double plain = weakestQuarter(apply(new RegularizePlugin(), MnistModels.mlp(), options, 0, 1000).model());
        options.put("group-lasso", "0.05");
        double grouped = weakestQuarter(apply(new RegularizePlugin(), MnistModels.mlp(), options, 0, 1000).model());
        double given = weakestQuarter(MnistModels.mlp());
        assertTrue(grouped < 0.5 * plain, "the weakest quarter of fc1's output channels shrinks as wholes: norms "
                + given + " given, " + plain + " without, " + grouped + " with group lasso");
    }

    /** Summed L2 norm of the quarter of fc1's output channels (columns of its [784, 256] weight) with the smallest norms. */
    private static double weakestQuarter(OnnxModel model) {
        float[] w = values(model, "fc1.weight");
        int outputs = 256;
        double[] norms = new double[outputs];
        for (int i = 0; i < w.length; i++) {
            norms[i % outputs] += w[i] * w[i];
        }
        Arrays.sort(norms);
        double sum = 0;
        for (int c = 0; c < outputs / 4; c++) {
            sum += Math.sqrt(norms[c]);
        }
        return sum;
    }

    private PluginResult fineTune(OnnxModel model, Map<String, String> options, int from, int to) throws Exception {
        return apply(new FineTunePlugin(), model, options, from, to);
    }

    private PluginResult apply(CompressionPlugin plugin, OnnxModel model, Map<String, String> options, int from,
            int to) throws Exception {
        PluginTestContext context = PluginTestContext.in(temp).withCalibration(calibration(from, to));
        return plugin.apply(model, PluginOptions.resolve(plugin.options(), options), context);
    }

    private static io.modelpress.spi.CalibrationData calibration(int from, int to) {
        return MnistModels.calibration(inputName(), from, to, 100);
    }

    private static List<Map<String, io.modelpress.spi.TensorData>> unlabelled(int from, int to) {
        io.modelpress.spi.CalibrationData labelled = calibration(from, to);
        List<Map<String, io.modelpress.spi.TensorData>> samples = new java.util.ArrayList<>();
        for (int s = 0; s < labelled.size(); s++) {
            samples.add(labelled.sample(s));
        }
        return samples;
    }

    private static String inputName() {
        return MnistModels.mlp().proto().getGraph().getInput(0).getName();
    }

    /** The weight matrices (rank 2 initializers). */
    static List<String> weightNames(OnnxModel model) {
        return model.proto().getGraph().getInitializerList().stream().filter(t -> t.getDimsCount() == 2)
                .map(TensorProto::getName).toList();
    }

    static float[] values(OnnxModel model, String name) {
        return Tensors.toFloats(model.proto().getGraph().getInitializerList().stream()
                .filter(t -> t.getName().equals(name)).findFirst().orElseThrow());
    }

    /** Zeros the smallest {@code sparsity} of every weight matrix by magnitude. */
    static OnnxModel pruned(OnnxModel model, double sparsity) {
        return rewrite(model, values -> {
            float[] magnitudes = new float[values.length];
            for (int i = 0; i < values.length; i++) {
                magnitudes[i] = Math.abs(values[i]);
            }
            Arrays.sort(magnitudes);
            float threshold = magnitudes[(int) (sparsity * (values.length - 1))];
            for (int i = 0; i < values.length; i++) {
                if (Math.abs(values[i]) <= threshold) {
                    values[i] = 0f;
                }
            }
        });
    }

    /** Rounds every weight matrix to {@code levels} evenly spaced values between its extremes. */
    static OnnxModel shared(OnnxModel model, int levels) {
        return rewrite(model, values -> {
            float min = Float.POSITIVE_INFINITY;
            float max = Float.NEGATIVE_INFINITY;
            for (float value : values) {
                min = Math.min(min, value);
                max = Math.max(max, value);
            }
            float step = (max - min) / (levels - 1);
            for (int i = 0; i < values.length; i++) {
                values[i] = min + step * Math.round((values[i] - min) / step);
            }
        });
    }

    private static OnnxModel rewrite(OnnxModel model, java.util.function.Consumer<float[]> change) {
        GraphProto.Builder graph = model.proto().getGraph().toBuilder();
        for (int i = 0; i < graph.getInitializerCount(); i++) {
            TensorProto tensor = graph.getInitializer(i);
            if (tensor.getDimsCount() == 2) {
                float[] values = Tensors.toFloats(tensor);
                change.accept(values);
                graph.setInitializer(i, Tensors.ofFloats(tensor.getName(), Tensors.dims(tensor), values));
            }
        }
        return model.withProto(model.proto().toBuilder().setGraph(graph).build());
    }
}

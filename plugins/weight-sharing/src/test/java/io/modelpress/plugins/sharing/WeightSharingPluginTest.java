package io.modelpress.plugins.sharing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WeightSharingPluginTest {

    private final WeightSharingPlugin plugin = new WeightSharingPlugin();

    @TempDir
    Path temp;

    @Test
    void clustersMlpLayersIntoSixteenValuesThatTheGraphDecodes() throws Exception {
        OnnxModel model = TestModels.mlp(64, 64, 64, 3);
        ModelProto untouched = model.proto();
        PluginResult result = apply(model, Map.of("pack", "false"));

        assertEquals(untouched, model.proto(), "the input model is not changed");
        assertEquals(2.0, result.figures().get("layers-shared"), result.changes().toString());
        assertTrue(result.changes().get(0).startsWith("weight 'w1' [64,64] (Gemm 'fc1'): 16 clusters"), result.changes().get(0));
        for (String name : List.of("w1", "w2")) {
            float[] decoded = decode(result.model(), name);
            assertTrue(distinct(decoded) <= 16, name + " holds " + distinct(decoded) + " values");
            assertEquals(Tensors.toFloats(tensor(model, name)).length, decoded.length);
        }
        // 4096 uint8 indices and 16 floats per layer
        assertEquals(2 * (4096 + 64), result.figures().get("weight-bytes-after"));
        assertEquals(2 * 4096 * 4, result.figures().get("weight-bytes-before"));
        assertTrue(result.figures().get("model-bytes-after") < result.figures().get("model-bytes-before") / 3);
        assertDecodesAsClustered(model, result.model(), List.of("w1", "w2"), samples(model, 4));
        assertSameSignature(model, result.model());
        double mse = meanSquaredError(model, result.model(), List.of("w1", "w2"));
        assertEquals(mse, result.figures().get("mean-squared-error"), mse * 1e-6);
    }

    @Test
    void packsAsManyIndicesPerByteAsPaysForTheTupleTable() throws Exception {
        OnnxModel model = TestModels.mlp(256, 256, 64, 3);
        PluginResult result = apply(model, Map.of("bits", "2"));

        assertTrue(result.changes().stream().allMatch(c -> c.contains("4 indices per byte")), result.changes().toString());
        // per layer: elements / 4 packed bytes + a 256 × 4 float table + an int64 shape of 2
        assertEquals((65536 / 4 + 256 * 4 * 4 + 16) + (16384 / 4 + 256 * 4 * 4 + 16),
                result.figures().get("weight-bytes-after"));
        assertTrue(distinct(decode(result.model(), "w1")) <= 4);
        assertDecodesAsClustered(model, result.model(), List.of("w1", "w2"), samples(model, 4));

        // on a 64×64 weight the 4 KiB table does not pay: 2 indices per byte and a 16 × 2 table
        OnnxModel small = TestModels.mlp(64, 64, 64, 3);
        PluginResult two = apply(small, Map.of("bits", "2"));
        assertTrue(two.changes().stream().allMatch(c -> c.contains("2 indices per byte")), two.changes().toString());
        assertEquals(2 * (4096 / 2 + 16 * 2 * 4 + 16), two.figures().get("weight-bytes-after"));
        assertDecodesAsClustered(small, two.model(), List.of("w1", "w2"), samples(small, 4));

        PluginResult unpacked = apply(small, Map.of("bits", "2", "pack", "false"));
        assertTrue(unpacked.changes().stream().noneMatch(c -> c.contains("per byte")), unpacked.changes().toString());
        assertEquals(2 * (4096 + 4 * 4), unpacked.figures().get("weight-bytes-after"));
    }

    @Test
    void eightBitsFollowTheOriginalCloserThanTwo() throws Exception {
        OnnxModel model = TestModels.mlp(64, 64, 64, 3);
        List<Map<String, TensorData>> samples = samples(model, 16);
        PluginResult two = apply(model, Map.of("bits", "2"));
        PluginResult eight = apply(model, Map.of("bits", "8"));

        assertTrue(eight.figures().get("mean-squared-error") < two.figures().get("mean-squared-error") / 100);
        OutputFidelity low = fidelity(model, two.model(), samples);
        OutputFidelity high = fidelity(model, eight.model(), samples);
        assertTrue(high.meanCosine() > low.meanCosine(), high + " vs " + low);
        assertTrue(high.relativeError() < low.relativeError());
        assertTrue(high.meanCosine() > 0.999, high.toString());
    }

    @Test
    void mnistClassifierKeepsItsAccuracyAtFourBits() throws Exception {
        OnnxModel model = MnistModels.mlp();
        PluginResult result = apply(model, Map.of("bits", "4"));

        assertEquals(3.0, result.figures().get("layers-shared"), result.changes().toString());
        assertTrue(result.model().serializedSize() * 5 < model.serializedSize(),
                model.serializedSize() + " → " + result.model().serializedSize() + " bytes");
        double before = MnistModels.accuracy(model, MnistModels.TRAIN, 10_000);
        double after = MnistModels.accuracy(result.model(), MnistModels.TRAIN, 10_000);
        System.out.printf("MNIST MLP, 4 bits: %d → %d bytes, held-out top-1 %.4f → %.4f%n", model.serializedSize(),
                result.model().serializedSize(), before, after);
        assertTrue(after >= before - 0.005, "held-out accuracy " + before + " → " + after);
    }

    @Test
    void sameSeedGivesTheSameBytes() throws Exception {
        OnnxModel model = OnnxModel.load(RealModels.WAKEWORD.copyTo(temp));
        byte[] first = apply(model, Map.of("seed", "5", "iterations", "4")).model().toByteArray();
        byte[] second = apply(model, Map.of("seed", "5", "iterations", "4")).model().toByteArray();
        byte[] other = apply(model, Map.of("seed", "6", "iterations", "4")).model().toByteArray();
        assertArrayEquals(first, second);
        assertFalse(java.util.Arrays.equals(first, other), "a different seed starts k-means elsewhere");
    }

    @Test
    void realGemmModelRunsAndLosesLittleAtFourBits() throws Exception {
        OnnxModel model = OnnxModel.load(RealModels.WAKEWORD.copyTo(temp));
        List<Map<String, TensorData>> samples = samples(model, 16);
        PluginResult result = apply(model, Map.of());

        assertTrue(result.changes().stream().anyMatch(c -> c.startsWith("weight 'layer1.weight' [32,2400] (Gemm")),
                result.changes().toString());
        assertTrue(result.skipped().stream().anyMatch(s -> s.reason().contains("fewer than min-elements 1024")));
        assertSameSignature(model, result.model());
        OutputFidelity four = fidelity(model, result.model(), samples);
        OutputFidelity two = fidelity(model, apply(model, Map.of("bits", "2")).model(), samples);
        assertTrue(four.relativeError() < two.relativeError(), four + " vs " + two);
        assertTrue(result.model().serializedSize() < model.serializedSize() / 3);
    }

    @Test
    void constantNodeWeightsOfARealCnnStayConstantNodes() throws Exception {
        OnnxModel model = OnnxModel.load(RealModels.OCR_CLASSIFIER.copyTo(temp));
        PluginResult result = apply(model, Map.of("bits", "8"));

        assertTrue(result.figures().get("layers-shared") >= 10, result.changes().toString());
        assertEquals(0, result.model().proto().getGraph().getInitializerCount());
        Set<Weight.Storage> storages = new HashSet<>();
        result.model().weights().all().stream().filter(w -> w.name().endsWith("_indices") || w.name().endsWith("_codebook"))
                .forEach(w -> storages.add(w.storage()));
        assertEquals(Set.of(Weight.Storage.CONSTANT_NODE), storages);
        assertSameSignature(model, result.model());
        SplittableRandom random = new SplittableRandom(3);
        List<Map<String, TensorData>> samples = new ArrayList<>();
        for (int s = 0; s < 2; s++) {
            float[] image = new float[3 * 48 * 192];
            for (int i = 0; i < image.length; i++) {
                image[i] = (float) random.nextDouble(-1, 1);
            }
            samples.add(Map.of("x", TensorData.ofFloats(new long[] {1, 3, 48, 192}, image)));
        }
        OutputFidelity eight = fidelity(model, result.model(), samples);
        OutputFidelity two = fidelity(model, apply(model, Map.of("bits", "2")).model(), samples);
        assertTrue(eight.relativeError() < two.relativeError(), eight + " vs " + two);
        assertTrue(eight.top1Agreement().orElse(0) == 1.0, eight.toString());
    }

    @Test
    void weightsInAndAroundIfBranchesAreDecodedWhereTheyLive() throws Exception {
        OnnxModel model = TestModels.withIfSubgraph(64, 64, 12);
        PluginResult result = apply(model, Map.of("bits", "3"));

        assertEquals(2.0, result.figures().get("layers-shared"), result.skipped().toString());
        assertTrue(result.changes().stream().anyMatch(c -> c.contains("in main/branch.else_branch")), result.changes().toString());
        for (boolean flag : new boolean[] {true, false}) {
            List<Map<String, TensorData>> samples = samples(model, 3).stream()
                    .map(sample -> TestModels.ifSample(sample.get("x"), flag)).toList();
            OutputFidelity fidelity = fidelity(model, result.model(), samples);
            assertTrue(fidelity.meanCosine() > 0.9 && fidelity.meanCosine() < 1, "flag " + flag + ": " + fidelity);
        }
    }

    @Test
    void float16WeightsGetAFloat16Codebook() throws Exception {
        float[] weight = KMeans1DTest.gaussian(48 * 40, 9);
        GraphProto graph = GraphProto.newBuilder().setName("half")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", 48))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", 40))
                .addInitializer(Tensors.ofFloat16("w", new long[] {48, 40}, weight))
                .addNode(Nodes.node("Cast", "to_half", List.of("x"), List.of("xh"), Nodes.attr("to", 10L)))
                .addNode(Nodes.node("MatMul", "mm", List.of("xh", "w"), List.of("yh")))
                .addNode(Nodes.node("Cast", "to_float", List.of("yh"), List.of("y"), Nodes.attr("to", 1L)))
                .build();
        OnnxModel model = TestModels.model(graph);
        PluginResult result = apply(model, Map.of("bits", "5"));

        assertEquals(1.0, result.figures().get("layers-shared"));
        assertEquals(DataType.FLOAT16, DataType.of(tensor(result.model(), "w_codebook")));
        assertTrue(fidelity(model, result.model(), samples(model, 4)).meanCosine() > 0.99);
    }

    @Test
    void aNamedLayerSmallerThanTheCodebookIsAnError() {
        OnnxModel model = TestModels.mlp(8, 16, 4, 1); // w1 has 128 values
        PluginException error = assertThrows(PluginException.class,
                () -> apply(model, Map.of("bits", "8", "layers", "fc1")));
        assertTrue(error.getMessage().contains("weight 'w1' [8,16] (Gemm 'fc1') has 128 values, fewer than the 2^8 = 256"),
                error.getMessage());
    }

    @Test
    void moreClustersThanAnyLayerHoldsIsAnError() {
        OnnxModel model = TestModels.mlp(8, 16, 4, 1); // the largest weight, w1, has 128 values
        PluginException error = assertThrows(PluginException.class,
                () -> apply(model, Map.of("bits", "8", "min-elements", "1")));
        assertTrue(error.getMessage().startsWith("2^8 = 256 clusters are more than the values of any layer weight"
                + " (the largest, weight 'w1' [8,16] (Gemm 'fc1'), has 128)"), error.getMessage());
    }

    @Test
    void smallLayersAreSkippedWithTheReasonInAGlobalRun() throws Exception {
        OnnxModel model = TestModels.mlp(64, 16, 4, 1);
        PluginResult result = apply(model, Map.of("bits", "7", "min-elements", "1"));
        assertEquals(1.0, result.figures().get("layers-shared"), result.toString());
        assertTrue(result.skipped().stream().anyMatch(s -> s.part().startsWith("weight 'w2' [16,4]")
                && s.reason().equals("64 values, fewer than the 128 clusters of 7 bits")), result.skipped().toString());
    }

    @Test
    void aLayerWhoseIndicesAndCodebookWouldNotBeSmallerStaysFloat() throws Exception {
        // w1 [8,16]: 128 values, 512 bytes of float32; at 7 bits its 128 codebook floats alone take as much
        OnnxModel model = TestModels.mlp(8, 16, 4, 1);
        PluginResult seven = apply(model, Map.of("bits", "7", "min-elements", "1"));
        assertEquals(0.0, seven.figures().get("layers-shared"), seven.toString());
        assertTrue(seven.skipped().stream().anyMatch(s -> s.part().startsWith("weight 'w1' [8,16]")
                && s.reason().matches("indices and codebook would take \\d+ bytes in the model with their decoding"
                        + " nodes, not fewer than the \\d+ of the float weight")), seven.skipped().toString());
        assertEquals(model.serializedSize(), seven.model().serializedSize());

        // at 5 bits a [32,16] weight shrinks, while the 64 values of w2 do not pay for 32 codebook floats
        OnnxModel wider = TestModels.mlp(32, 16, 4, 1);
        PluginResult five = apply(wider, Map.of("bits", "5", "min-elements", "1"));
        assertEquals(1.0, five.figures().get("layers-shared"), five.toString());
        assertTrue(five.changes().get(0).startsWith("weight 'w1' [32,16]"), five.changes().toString());
        assertTrue(five.skipped().stream().anyMatch(s -> s.part().startsWith("weight 'w2' [16,4]")
                && s.reason().startsWith("indices and codebook would take")), five.skipped().toString());
        assertTrue(five.model().serializedSize() < wider.serializedSize());
        assertDecodesAsClustered(wider, five.model(), List.of("w1"), samples(wider, 2));
    }

    @Test
    void sharingNeverMakesARealCnnLarger() throws Exception {
        OnnxModel model = OnnxModel.load(RealModels.OCR_CLASSIFIER.copyTo(temp));
        for (String bits : List.of("2", "8")) {
            PluginResult result = apply(model, Map.of("bits", bits, "min-elements", "1"));
            assertTrue(result.figures().get("layers-shared") > 0, result.changes().toString());
            assertTrue(result.skipped().stream().anyMatch(s -> s.reason().startsWith("indices and codebook would take")),
                    result.skipped().toString());
            assertTrue(result.figures().get("weight-bytes-after") < result.figures().get("weight-bytes-before"));
            assertTrue(result.model().serializedSize() < model.serializedSize());
        }
    }

    @Test
    void unknownLayerNamesAreErrors() {
        OnnxModel model = TestModels.mlp(64, 64, 64, 3);
        PluginException excluded = assertThrows(PluginException.class, () -> apply(model, Map.of("exclude", "fc3")));
        assertTrue(excluded.getMessage().contains("option 'exclude' names no layer of this model: fc3;"), excluded.getMessage());
        assertTrue(excluded.getMessage().contains("layer weights: w1, w2"), excluded.getMessage());
        PluginException named = assertThrows(PluginException.class, () -> apply(model, Map.of("layers", "relu1")));
        assertTrue(named.getMessage().contains("relu1 (a node named there reads no MatMul, Gemm or Conv weight)"),
                named.getMessage());
    }

    @Test
    void excludedAndNamedLayers() throws Exception {
        OnnxModel model = TestModels.mlp(64, 64, 64, 3);
        PluginResult excluded = apply(model, Map.of("exclude", "MatMul"));
        assertEquals(1.0, excluded.figures().get("layers-shared"));
        assertTrue(excluded.skipped().stream().anyMatch(s -> s.part().startsWith("weight 'w2'") && s.reason().contains("excluded")));
        PluginResult named = apply(model, Map.of("layers", "w2"));
        assertEquals(1.0, named.figures().get("layers-shared"));
        assertTrue(named.changes().get(0).startsWith("weight 'w2'"));
    }

    @Test
    void reportsProgressAndStopsWhenCancelled() throws Exception {
        OnnxModel model = TestModels.mlp(64, 64, 64, 3);
        PluginTestContext context = PluginTestContext.in(temp);
        plugin.apply(model, PluginOptions.defaults(plugin.options()), context);
        List<PluginTestContext.Progress> progress = context.progressReports();
        assertTrue(progress.size() >= 3, progress.toString());
        for (int i = 1; i < progress.size(); i++) {
            assertTrue(progress.get(i).fraction() >= progress.get(i - 1).fraction(), "progress never goes back: " + progress);
        }
        assertEquals(1.0, progress.get(progress.size() - 1).fraction());
        PluginTestContext cancelled = PluginTestContext.in(temp);
        cancelled.cancel();
        assertThrows(CancellationException.class,
                () -> plugin.apply(model, PluginOptions.defaults(plugin.options()), cancelled));
    }

    @Test
    void bitsOutsideTwoToEightAreRefusedByTheOptions() {
        assertThrows(IllegalArgumentException.class, () -> PluginOptions.resolve(plugin.options(), Map.of("bits", "1")));
        assertThrows(IllegalArgumentException.class, () -> PluginOptions.resolve(plugin.options(), Map.of("bits", "9")));
    }

    // ---- helpers

    private PluginResult apply(OnnxModel model, Map<String, String> options) throws PluginException {
        return plugin.apply(model, PluginOptions.resolve(plugin.options(), options), PluginTestContext.in(temp));
    }

    private static TensorProto tensor(OnnxModel model, String name) {
        Weight weight = model.weights().all().stream().filter(w -> w.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no weight " + name));
        return model.weights().tensor(weight.ref());
    }

    private static boolean has(OnnxModel model, String name) {
        return model.weights().all().stream().anyMatch(w -> w.name().equals(name));
    }

    /** The values the shared model's graph computes for a weight, decoded here from its indices and codebook. */
    static float[] decode(OnnxModel shared, String name) {
        float[] indices = Tensors.toFloats(tensor(shared, name + "_indices"));
        if (has(shared, name + "_codebook")) {
            float[] codebook = Tensors.toFloats(tensor(shared, name + "_codebook"));
            float[] out = new float[indices.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = codebook[(int) indices[i]];
            }
            return out;
        }
        TensorProto table = tensor(shared, name + "_codebook_tuples");
        int per = (int) table.getDims(1);
        float[] tuples = Tensors.toFloats(table);
        float[] out = new float[indices.length * per];
        for (int g = 0; g < indices.length; g++) {
            System.arraycopy(tuples, (int) indices[g] * per, out, g * per, per);
        }
        return out;
    }

    private static int distinct(float[] values) {
        Set<Float> set = new HashSet<>();
        for (float v : values) {
            set.add(v);
        }
        return set.size();
    }

    private static double meanSquaredError(OnnxModel original, OnnxModel shared, List<String> names) {
        double error = 0;
        long count = 0;
        for (String name : names) {
            float[] before = Tensors.toFloats(tensor(original, name));
            float[] after = decode(shared, name);
            for (int i = 0; i < before.length; i++) {
                double d = before[i] - after[i];
                error += d * d;
            }
            count += before.length;
        }
        return error / count;
    }

    /** The shared model computes exactly what the original does with the decoded weights in place. */
    private static void assertDecodesAsClustered(OnnxModel original, OnnxModel shared, List<String> names,
            List<Map<String, TensorData>> samples) {
        Map<Weight.Ref, TensorProto> decoded = new HashMap<>();
        for (String name : names) {
            Weight weight = original.weights().all().stream().filter(w -> w.name().equals(name)).findFirst().orElseThrow();
            decoded.put(weight.ref(), Tensors.ofFloats(name, weight.dims(), decode(shared, name)));
        }
        OnnxModel reference = original.withProto(WeightIndex.replace(original.proto(), decoded));
        try (OrtRunner expected = OrtRunner.open(reference); OrtRunner actual = OrtRunner.open(shared)) {
            for (Map<String, TensorData> sample : samples) {
                Map<String, TensorData> want = expected.run(sample);
                Map<String, TensorData> got = actual.run(sample);
                want.forEach((output, value) -> assertArrayEquals(value.toFloats(), got.get(output).toFloats(), 1e-5f, output));
            }
        }
    }

    static List<Map<String, TensorData>> samples(OnnxModel model, int count) {
        try (OrtRunner runner = OrtRunner.open(model)) {
            return InputGenerator.defaults().generate(runner.inputSpecs(), count, 42);
        }
    }

    static OutputFidelity fidelity(OnnxModel original, OnnxModel compressed, List<Map<String, TensorData>> samples) {
        return ModelChecks.fidelity(original, compressed, samples);
    }

    static void assertSameSignature(OnnxModel original, OnnxModel compressed) {
        GraphProto before = original.proto().getGraph();
        GraphProto after = compressed.proto().getGraph();
        assertEquals(before.getInputList(), after.getInputList());
        assertEquals(before.getOutputList(), after.getOutputList());
        List<String> ops = after.getNodeList().stream().map(NodeProto::getOpType).distinct().toList();
        assertTrue(ops.contains("Gather"), ops.toString());
    }

}

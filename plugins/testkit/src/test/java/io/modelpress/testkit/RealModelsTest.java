package io.modelpress.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.inference.InputSpec;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.RunnerOptions;
import io.modelpress.model.DataType;
import io.modelpress.model.GraphPath;
import io.modelpress.model.Graphs;
import io.modelpress.model.ModelException;
import io.modelpress.model.ModelSummary;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.SaveOptions;
import io.modelpress.model.SavedModel;
import io.modelpress.model.Weight;
import io.modelpress.spi.TensorData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The real models of the test kit load, summarise, save and reload unchanged, and run from external data. */
class RealModelsTest {

    /** External data named as MLflow names it: a UUID, no extension. */
    private static final String DATA_NAME = "0b9e6d1c-57a4-4f2e-8c3b-9a1d7e5f2c60";

    @TempDir
    Path dir;

    private Path copy(RealModels model) {
        return model.copyTo(dir.resolve("original"));
    }

    private static Map<String, Integer> weightsByStorage(OnnxModel model) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (Weight weight : model.weights().all()) {
            counts.merge(weight.storage() + (weight.ref().graph().isMain() ? "@main" : "@subgraph"), 1, Integer::sum);
        }
        return counts;
    }

    private static int count(ModelSummary summary, String op) {
        return summary.operators().getOrDefault(op, 0);
    }

    @Test
    void theModelsAreTheOnesTheReadmeNames() throws Exception {
        Map<RealModels, String> sha256 = Map.of(
                RealModels.WAKEWORD, "67ac357640e53b9d4713433a8ab48be4333f7cb21d6816406be7660ebe6d7614",
                RealModels.SILERO_VAD_V4, "a35ebf52fd3ce5f1469b2a36158dba761bc47b973ea3382b3186ca15b1f5af28",
                RealModels.SILERO_VAD_V5, "2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f",
                RealModels.OCR_DETECTOR, "30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff",
                RealModels.OCR_RECOGNIZER, "06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0",
                RealModels.OCR_CLASSIFIER, "491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640");
        assertEquals(RealModels.all().size(), sha256.size());
        for (RealModels model : RealModels.all()) {
            Path file = copy(model);
            String actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
            assertEquals(sha256.get(model), actual, model.fileName());
            assertEquals(actual, OnnxModel.load(file).sourceDigest().orElseThrow(),
                    "the digest of a model without external data is the file's sha256");
        }
    }

    @ParameterizedTest
    @EnumSource(RealModels.class)
    void summaryIsSane(RealModels real) {
        OnnxModel model = OnnxModel.load(copy(real));
        ModelSummary summary = model.summary();
        Map<String, Integer> storage = weightsByStorage(model);

        assertTrue(summary.irVersion() >= 7, "IR " + summary.irVersion());
        assertTrue(summary.opsets().containsKey("ai.onnx"), summary.opsets().toString());
        assertTrue(summary.nodes() > 20, "nodes " + summary.nodes());
        assertEquals(summary.operators().values().stream().mapToInt(Integer::intValue).sum(), summary.nodes());
        assertEquals(summary.weights().stream().mapToLong(ModelSummary.WeightEntry::parameters).sum(), summary.parameters());
        assertEquals(summary.weights().stream().mapToLong(ModelSummary.WeightEntry::bytes).sum(), summary.weightBytes());
        ModelSummary.TypeTotal floats = summary.byType().get("float");
        assertTrue(floats != null && floats.parameters() > 50_000, "float parameters: " + summary.byType());
        assertEquals(floats.parameters() * 4, floats.bytes());
        assertTrue(summary.weightBytes() > 0.9 * model.serializedSize() - 100_000,
                "weights are most of the file: " + summary.weightBytes() + " of " + model.serializedSize());
        assertTrue(!summary.inputs().isEmpty() && !summary.outputs().isEmpty());

        switch (real) {
            case WAKEWORD -> {
                assertEquals(3, count(summary, "Gemm"));
                assertEquals(0, summary.subgraphs());
                assertEquals(List.of(new ModelSummary.Value("onnx::Flatten_0", "float", List.of("1", "25", "96"))),
                        summary.inputs());
                assertEquals(Map.of("INITIALIZER@main", 10, "CONSTANT_NODE@main", 4), storage);
            }
            case SILERO_VAD_V4 -> {
                assertEquals(9, count(summary, "If"));
                assertEquals(18, summary.subgraphs());
                assertEquals(8, count(summary, "LSTM"), "the LSTMs inside the If branches are counted");
                assertTrue(storage.getOrDefault("INITIALIZER@subgraph", 0) > 100, storage.toString());
                assertEquals(List.of("input", "sr", "h", "c"), summary.inputs().stream().map(ModelSummary.Value::name).toList());
                assertEquals(List.of("batch", "sequence"), summary.inputs().get(0).shape(), "symbolic dims keep their names");
                assertEquals(new ModelSummary.Value("sr", "int64", List.of()), summary.inputs().get(1));
            }
            case SILERO_VAD_V5 -> {
                assertEquals(25, count(summary, "If"));
                assertEquals(50, summary.subgraphs());
                assertEquals(4, count(summary, "LSTM"));
                assertTrue(storage.getOrDefault("CONSTANT_NODE@subgraph", 0) > 300, storage.toString());
                assertEquals(List.of("input", "state", "sr"), summary.inputs().stream().map(ModelSummary.Value::name).toList());
                // the float weights of v5 all live inside If branches
                assertTrue(model.weights().all().stream().filter(w -> w.type() == DataType.FLOAT)
                        .allMatch(w -> !w.ref().graph().isMain()), "float weights in subgraphs");
            }
            case OCR_CLASSIFIER, OCR_DETECTOR, OCR_RECOGNIZER -> {
                assertEquals(0, summary.subgraphs());
                assertEquals(Map.of("CONSTANT_NODE@main", summary.weights().size()), storage,
                        "every PaddleOCR weight is a Constant node");
                assertTrue(count(summary, "Conv") > 30, summary.operators().toString());
                assertEquals(count(summary, "Constant"), summary.weights().size());
                ModelSummary.Value x = summary.inputs().get(0);
                assertEquals("x", x.name());
                assertEquals("p2o.DynamicDimension.0", x.shape().get(0), "symbolic dims keep their names");
                assertEquals("3", x.shape().get(1));
            }
        }
    }

    /**
     * Every Conv and Gemm weight input (and LSTM W, except in Silero v5, which computes its LSTM
     * weights with Concat and Unsqueeze from Constant nodes), in any graph, resolves to an indexed weight.
     */
    @ParameterizedTest
    @EnumSource(RealModels.class)
    void everyOperatorWeightIsIndexedWithItsUse(RealModels real) {
        OnnxModel model = OnnxModel.load(copy(real));
        Map<String, Integer> weightInputs = new LinkedHashMap<>();
        Graphs.forEach(model.proto(), (path, graph) -> {
            for (NodeProto node : graph.getNodeList()) {
                switch (node.getOpType()) {
                    case "Conv", "Gemm" -> weightInputs.merge(node.getOpType(), 1, Integer::sum);
                    case "LSTM" -> {
                        if (real != RealModels.SILERO_VAD_V5) {
                            weightInputs.merge("LSTM", 1, Integer::sum);
                        }
                    }
                    default -> { }
                }
            }
        });
        int weightUses = 0;
        for (Weight weight : model.weights().all()) {
            for (Weight.Use use : weight.uses()) {
                if (use.inputIndex() == 1 && weightInputs.containsKey(use.opType())) {
                    weightUses++;
                }
            }
        }
        int expected = weightInputs.values().stream().mapToInt(Integer::intValue).sum();
        assertTrue(expected > 0, weightInputs.toString());
        if (real == RealModels.SILERO_VAD_V4) {
            assertEquals(8, weightInputs.get("LSTM"), "v4 reads its LSTM weights as they are stored");
        }
        assertEquals(expected, weightUses,
                "weight inputs of " + weightInputs + " found through the index, outer scopes included");
        if (real == RealModels.SILERO_VAD_V4) {
            // v4's Conv weights live in the main graph and are read from inside the If branches
            assertTrue(model.weights().all().stream().filter(w -> w.ref().graph().isMain())
                    .flatMap(w -> w.uses().stream()).anyMatch(u -> !u.graph().isMain() && u.opType().equals("Conv")));
        }
    }

    @ParameterizedTest
    @EnumSource(RealModels.class)
    void savedAndReloadedIsTheSameProto(RealModels real) {
        Path original = copy(real);
        OnnxModel model = OnnxModel.load(original);
        ModelProto proto = model.proto();

        Path inline = dir.resolve("inline").resolve(real.fileName());
        SavedModel saved = model.save(inline, SaveOptions.inline());
        assertTrue(saved.dataFile().isEmpty());
        OnnxModel reloaded = OnnxModel.load(inline);
        assertEquals(proto, reloaded.proto());
        assertEquals(saved.digest(), reloaded.sourceDigest().orElseThrow());

        Path external = dir.resolve("external").resolve(real.fileName());
        SavedModel savedExternal = model.save(external, SaveOptions.external(DATA_NAME));
        assertEquals(external.resolveSibling(DATA_NAME).toAbsolutePath(), savedExternal.dataFile().orElseThrow());
        OnnxModel reloadedExternal = OnnxModel.load(external);
        assertTrue(reloadedExternal.hadExternalData());
        assertEquals(proto, reloadedExternal.proto(), "external data is read back into the same tensors");
        assertEquals(model.summary(), reloadedExternal.summary());
    }

    @ParameterizedTest
    @EnumSource(RealModels.class)
    void externalDataRunsInOnnxRuntimeLikeTheOriginal(RealModels real) throws Exception {
        Path original = copy(real);
        OnnxModel model = OnnxModel.load(original);
        Path external = dir.resolve("mlflow").resolve(real.fileName());
        SavedModel saved = model.save(external, SaveOptions.external(DATA_NAME));

        // the weights really are in the data file, not in the model file
        assertTrue(saved.dataBytes() > 0.9 * model.summary().weightBytes(),
                saved.dataBytes() + " bytes of " + model.summary().weightBytes() + " went out");
        assertTrue(saved.modelBytes() < Files.size(original) / 3, "model file " + saved.modelBytes() + " bytes");
        ModelProto onDisk = ModelProto.parseFrom(Files.readAllBytes(external));
        int[] externalTensors = {0};
        Graphs.forEach(onDisk, (path, graph) -> externalTensors[0] += countExternal(graph));
        assertTrue(externalTensors[0] > 0);

        Map<String, TensorData> expected;
        Map<String, TensorData> actual;
        Map<String, TensorData> inputs;
        try (OrtRunner originalRunner = OrtRunner.open(original, RunnerOptions.DEFAULT);
             OrtRunner externalRunner = OrtRunner.open(external, RunnerOptions.DEFAULT)) {
            assertEquals(originalRunner.inputNames(), externalRunner.inputNames());
            assertEquals(originalRunner.outputNames(), externalRunner.outputNames());
            inputs = inputsFor(real, originalRunner.inputSpecs());
            expected = originalRunner.run(inputs);
            actual = externalRunner.run(inputs);
        }
        assertEquals(expected.keySet(), actual.keySet());
        for (String name : expected.keySet()) {
            TensorData e = expected.get(name);
            TensorData a = actual.get(name);
            assertEquals(e.type(), a.type(), name);
            assertArrayEquals(e.shape(), a.shape(), name);
            float[] ev = e.toFloats();
            float[] av = a.toFloats();
            for (int i = 0; i < ev.length; i++) {
                assertTrue(Float.isFinite(ev[i]), real + " output " + name + "[" + i + "] = " + ev[i]);
                assertEquals(ev[i], av[i], 1e-5f * (1 + Math.abs(ev[i])), real + " output " + name + "[" + i + "]");
            }
        }
        checkOutputsMakeSense(real, expected);
    }

    private static int countExternal(GraphProto graph) {
        int n = 0;
        for (TensorProto t : graph.getInitializerList()) {
            n += t.getDataLocation() == TensorProto.DataLocation.EXTERNAL ? 1 : 0;
        }
        for (NodeProto node : graph.getNodeList()) {
            n += (int) node.getAttributeList().stream()
                    .filter(a -> a.hasT() && a.getT().getDataLocation() == TensorProto.DataLocation.EXTERNAL).count();
        }
        return n;
    }

    /** Shapes each model accepts: Silero takes 512 samples at 16 kHz, PaddleOCR images of 3×48×192 or 3×64×64. */
    private static Map<String, long[]> shapesFor(RealModels real) {
        return switch (real) {
            case WAKEWORD -> Map.of("onnx::Flatten_0", new long[] {1, 25, 96});
            case SILERO_VAD_V4 -> Map.of("input", new long[] {1, 512}, "sr", new long[0],
                    "h", new long[] {2, 1, 64}, "c", new long[] {2, 1, 64});
            case SILERO_VAD_V5 -> Map.of("input", new long[] {1, 512}, "sr", new long[0], "state", new long[] {2, 1, 128});
            case OCR_CLASSIFIER, OCR_RECOGNIZER -> Map.of("x", new long[] {1, 3, 48, 192});
            case OCR_DETECTOR -> Map.of("x", new long[] {1, 3, 64, 64});
        };
    }

    static Map<String, TensorData> inputsFor(RealModels real, Map<String, InputSpec> specs) {
        Map<String, long[]> shapes = shapesFor(real);
        assertEquals(shapes.keySet(), specs.keySet(), real + " inputs");
        SplittableRandom random = new SplittableRandom(1234);
        Map<String, TensorData> inputs = new LinkedHashMap<>();
        for (InputSpec spec : specs.values()) {
            long[] shape = shapes.get(spec.name());
            long[] declared = spec.shape();
            assertEquals(declared.length, shape.length, spec.name() + " rank");
            for (int d = 0; d < declared.length; d++) {
                assertTrue(declared[d] < 0 || declared[d] == shape[d], spec.name() + " dim " + d + " is fixed at " + declared[d]);
            }
            int n = 1;
            for (long dim : shape) {
                n *= (int) dim;
            }
            if (spec.name().equals("sr")) {
                assertEquals(DataType.INT64, spec.type());
                inputs.put("sr", TensorData.ofLongs(shape, new long[] {16000}));
                continue;
            }
            assertEquals(DataType.FLOAT, spec.type(), spec.name());
            float[] values = new float[n];
            if (!List.of("h", "c", "state").contains(spec.name())) { // recurrent state starts at zero
                for (int i = 0; i < n; i++) {
                    values[i] = spec.name().equals("input")
                            ? (float) (0.3 * Math.sin(i * 2 * Math.PI * 440 / 16000) + 0.05 * (random.nextDouble() - 0.5))
                            : (float) (random.nextDouble() * 2 - 1);
                }
            }
            inputs.put(spec.name(), TensorData.ofFloats(shape, values));
        }
        return inputs;
    }

    private static void checkOutputsMakeSense(RealModels real, Map<String, TensorData> outputs) {
        switch (real) {
            case WAKEWORD -> {
                float[] score = outputs.get("39").toFloats();
                assertEquals(1, score.length);
                assertTrue(score[0] >= 0 && score[0] <= 1, "a sigmoid score: " + score[0]);
            }
            case SILERO_VAD_V4, SILERO_VAD_V5 -> {
                float[] speech = outputs.get("output").toFloats();
                assertEquals(1, speech.length);
                assertTrue(speech[0] >= 0 && speech[0] <= 1, "a speech probability: " + speech[0]);
                String state = real == RealModels.SILERO_VAD_V4 ? "hn" : "stateN";
                assertArrayEquals(real == RealModels.SILERO_VAD_V4 ? new long[] {2, 1, 64} : new long[] {2, 1, 128},
                        outputs.get(state).shape());
            }
            case OCR_CLASSIFIER -> {
                TensorData probabilities = outputs.get("softmax_0.tmp_0");
                assertArrayEquals(new long[] {1, 2}, probabilities.shape());
                float[] p = probabilities.toFloats();
                assertEquals(1.0, p[0] + p[1], 1e-4);
            }
            case OCR_DETECTOR -> {
                TensorData map = outputs.get("sigmoid_0.tmp_0");
                assertArrayEquals(new long[] {1, 1, 64, 64}, map.shape());
                for (float v : map.toFloats()) {
                    assertTrue(v >= 0 && v <= 1, "a probability map: " + v);
                }
            }
            case OCR_RECOGNIZER -> {
                TensorData probabilities = outputs.get("softmax_11.tmp_0");
                long[] shape = probabilities.shape();
                assertEquals(3, shape.length);
                assertEquals(6625, shape[2]);
                float[] p = probabilities.toFloats();
                List<Double> sums = new ArrayList<>();
                for (int t = 0; t < shape[1]; t++) {
                    double sum = 0;
                    for (int k = 0; k < 6625; k++) {
                        sum += p[t * 6625 + k];
                    }
                    sums.add(sum);
                }
                assertTrue(sums.stream().allMatch(s -> Math.abs(s - 1) < 1e-3), "softmax rows: " + sums);
            }
        }
    }

    /** Negative control: ONNX Runtime reads the weights from the data file, so changing it changes the outputs. */
    @Test
    void onnxRuntimeReadsTheWeightsFromTheDataFile() throws Exception {
        RealModels real = RealModels.WAKEWORD;
        Path external = dir.resolve("control").resolve(real.fileName());
        SavedModel saved = OnnxModel.load(copy(real)).save(external, SaveOptions.external(DATA_NAME));
        Map<String, TensorData> before;
        Map<String, TensorData> inputs;
        try (OrtRunner runner = OrtRunner.open(external, RunnerOptions.DEFAULT)) {
            inputs = inputsFor(real, runner.inputSpecs());
            before = runner.run(inputs);
        }
        Path data = saved.dataFile().orElseThrow();
        byte[] bytes = Files.readAllBytes(data);
        for (int i = 0; i < bytes.length; i += 4) {
            bytes[i + 3] ^= 0x01; // an exponent bit: every float weight is scaled by 4 or 1/4
        }
        Files.write(data, bytes);
        try (OrtRunner runner = OrtRunner.open(external, RunnerOptions.DEFAULT)) {
            float[] after = runner.run(inputs).get("39").toFloats();
            assertTrue(after[0] != before.get("39").toFloats()[0] || !Float.isFinite(after[0]),
                    "outputs changed with the data file: " + after[0]);
        }
        assertNotEquals(saved.digest(), OnnxModel.load(external).sourceDigest().orElseThrow());
    }

    @Test
    void aTruncatedRealModelIsRefused() throws Exception {
        Path original = copy(RealModels.SILERO_VAD_V5);
        byte[] bytes = Files.readAllBytes(original);
        Path half = dir.resolve("half.onnx");
        Files.write(half, Arrays.copyOf(bytes, bytes.length / 2));
        ModelException e = assertThrows(ModelException.class, () -> OnnxModel.load(half));
        assertTrue(e.getMessage().contains("half.onnx") && e.getMessage().contains("truncated")
                && !e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void subgraphWeightsOfSileroAreNamedByTheirIfNode() {
        OnnxModel model = OnnxModel.load(copy(RealModels.SILERO_VAD_V5));
        Weight conv = model.weights().all().stream()
                .filter(w -> w.uses().stream().anyMatch(u -> u.opType().equals("Conv") && u.inputIndex() == 1))
                .findFirst().orElseThrow();
        GraphPath path = conv.ref().graph();
        assertEquals(1, path.depth());
        String ifName = path.steps().get(0).nodeName();
        assertTrue(model.proto().getGraph().getNodeList().stream()
                .anyMatch(n -> n.getName().equals(ifName) && n.getOpType().equals("If")), ifName);
        assertTrue(List.of("then_branch", "else_branch").contains(path.steps().get(0).attribute()));
        assertTrue(conv.ref().toString().startsWith("main/" + ifName + "."), conv.ref().toString());
    }
}

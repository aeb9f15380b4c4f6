package io.modelpress.plugins.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.inference.Fidelity;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.model.OnnxModel;
import io.modelpress.plugins.pruning.MagnitudePruningPlugin;
import io.modelpress.plugins.sharing.WeightSharingPlugin;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.PluginTestContext;
import io.modelpress.testkit.RealModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deep Compression as a chain of plugins, each run on the previous step's output: magnitude pruning, weight
 * sharing (whose codebook indices are already the small integers int8 would give) and packaging. What counts is
 * the packed file a user receives, unpacked and run.
 */
class DeepCompressionChainTest {

    @TempDir
    Path temp;

    @Test
    void mnistPacksTenTimesSmallerAndLosesAtMostOnePointOfAccuracy() throws Exception {
        OnnxModel original = MnistModels.mlp();
        double accuracyBefore = heldOutAccuracy(original);

        // the middle of the options that meet both goals (bench/chain.sh sweeps sparsity and bits)
        List<PluginResult> steps = runChain(original, Map.of("sparsity", "0.6"), Map.of("bits", "4"));
        for (PluginResult step : steps) {
            assertSameInputsAndOutputs(original, step.model());
            double accuracy = heldOutAccuracy(step.model());
            assertTrue(accuracy >= accuracyBefore - 0.01, "every step keeps the model within a point: "
                    + accuracyBefore + " -> " + accuracy + " after " + step.changes());
        }
        PluginResult pruned = steps.get(0);
        assertEquals(0.6, pruned.figures().get("sparsity"), 1e-3);
        assertEquals(3, steps.get(1).figures().get("layers-shared"), "every layer is clustered");

        Path packed = steps.get(2).artifacts().get(PackagePlugin.ARTIFACT);
        long fp32Bytes = original.serializedSize();
        long packedBytes = Files.size(packed);
        assertTrue(packedBytes * 10 <= fp32Bytes, "packaged " + packedBytes + " bytes, at least 10x under the fp32 "
                + fp32Bytes);

        // the user's side: unpack the file and run what comes out
        Path unpacked = temp.resolve("received/model.onnx");
        Unpacker.unpack(packed, unpacked);
        OnnxModel received = OnnxModel.load(unpacked);
        assertSameInputsAndOutputs(original, received);
        double accuracyAfter = heldOutAccuracy(received);
        assertTrue(accuracyAfter >= accuracyBefore - 0.01, "at most one point lost on the held-out digits: "
                + accuracyBefore + " -> " + accuracyAfter);
    }

    @Test
    void aRealCnnRunsAfterEveryStepAndFollowsTheOriginal() throws Exception {
        OnnxModel original = OnnxModel.load(RealModels.OCR_CLASSIFIER.copyTo(temp.resolve("cnn")));
        // a compact CNN loses much more to one-shot pruning than the MLP: gentler options (see bench/pruning.md)
        List<PluginResult> steps = runChain(original, Map.of("sparsity", "0.2"), Map.of("bits", "5"));
        List<Map<String, TensorData>> lines = ChainBenchmark.digitStrips(8, 48, MnistModels.TRAIN);
        for (PluginResult step : steps) {
            assertSameInputsAndOutputs(original, step.model());
            try (OrtRunner expected = OrtRunner.open(original); OrtRunner actual = OrtRunner.open(step.model())) {
                OutputFidelity fidelity = Fidelity.compare(expected, actual, lines).get(0);
                assertTrue(fidelity.meanCosine() > 0.95 && fidelity.top1Agreement().orElseThrow() >= 0.9,
                        "the orientation scores follow the original's: " + fidelity);
            }
        }
        long packedBytes = steps.get(2).figures().get("packaged-bytes").longValue();
        assertTrue(packedBytes * 3 < original.serializedSize(), "pruned and shared weights pack well under the"
                + " original's " + original.serializedSize() + " bytes: " + packedBytes);
    }

    /** Pruning, weight sharing and packaging, each on the previous step's output. */
    private List<PluginResult> runChain(OnnxModel original, Map<String, String> pruning, Map<String, String> sharing)
            throws Exception {
        List<PluginResult> steps = new ArrayList<>();
        OnnxModel model = original;
        for (Step step : List.of(new Step(new MagnitudePruningPlugin(), pruning), new Step(new WeightSharingPlugin(),
                sharing), new Step(new PackagePlugin(), Map.of()))) {
            PluginResult result = step.apply(model, Files.createDirectories(temp.resolve(step.plugin().id())));
            steps.add(result);
            model = result.model();
        }
        return steps;
    }

    private record Step(CompressionPlugin plugin, Map<String, String> options) {
        PluginResult apply(OnnxModel model, Path folder) throws PluginException {
            return plugin.apply(model, PluginOptions.resolve(plugin.options(), options), PluginTestContext.in(folder));
        }
    }

    private static double heldOutAccuracy(OnnxModel model) {
        return MnistModels.accuracy(model, MnistModels.TRAIN, 10_000);
    }

    private static void assertSameInputsAndOutputs(OnnxModel original, OnnxModel compressed) {
        assertEquals(original.summary().inputs(), compressed.summary().inputs(), "inputs keep names, types and shapes");
        assertEquals(original.summary().outputs(), compressed.summary().outputs(), "outputs keep names, types and shapes");
    }
}

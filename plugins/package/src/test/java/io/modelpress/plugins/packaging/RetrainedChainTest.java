package io.modelpress.plugins.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.model.OnnxModel;
import io.modelpress.plugins.distillation.FineTunePlugin;
import io.modelpress.plugins.pruning.MagnitudePruningPlugin;
import io.modelpress.plugins.pruning.StructuredPruningPlugin;
import io.modelpress.plugins.sharing.WeightSharingPlugin;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.PluginTestContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deep Compression with retraining, as Han et al. ran it: prune, fine-tune, share, fine-tune the
 * codebooks, package. Fine-tuning trains on the digits that trained the model ({@code [0, TRAIN)});
 * the packaged file is unpacked and judged on the held-out digits no step saw.
 */
class RetrainedChainTest {

    @TempDir
    Path temp;

    @Test
    void mnistPacksFortyTimesSmallerAndLosesAtMostOnePoint() throws Exception {
        OnnxModel original = MnistModels.mlp();
        double before = MnistModels.accuracy(original, MnistModels.TRAIN, 10_000);
        String input = original.proto().getGraph().getInput(0).getName();
        CalibrationData data = MnistModels.calibration(input, 0, MnistModels.TRAIN, 500);
        // Han et al.'s schedule in small: retrain the pruned network at a normal step size, then the codebooks at a
        // tiny one (each codebook value moves every weight of its cluster at once)
        List<PluginResult> steps = run(original, data, List.of(
                new Step(new MagnitudePruningPlugin(), Map.of("sparsity", "0.94")),
                new Step(new FineTunePlugin(), Map.of("epochs", "10", "learning-rate", "0.001")),
                new Step(new WeightSharingPlugin(), Map.of("bits", "4")),
                new Step(new FineTunePlugin(), Map.of("epochs", "4", "learning-rate", "0.00001")),
                new Step(new PackagePlugin(), Map.of())));
        assertTrue(steps.get(1).figures().get("best-epoch") >= 1, "fine-tuning beat the pruned weights");
        assertEquals(2.0, steps.get(3).figures().get("shared-tensors"), "the packed codebook tables train as clusters");
        assertSameIndices(steps.get(2).model(), steps.get(3).model());
        Path packed = steps.get(4).artifacts().get(PackagePlugin.ARTIFACT);
        Path unpacked = temp.resolve("received/model.onnx");
        Unpacker.unpack(packed, unpacked);
        double after = MnistModels.accuracy(OnnxModel.load(unpacked), MnistModels.TRAIN, 10_000);
        long fp32 = original.serializedSize();
        long size = Files.size(packed);
        assertTrue(size * 40 <= fp32, "packaged " + size + " bytes, at least 40x under the fp32 " + fp32);
        assertTrue(after >= before - 0.01, "at most one point lost: " + before + " -> " + after);
    }

    @Test
    void channelsRemovedByStructuredPruningStayRemoved() throws Exception {
        CalibrationData images = RetrainingBenchmark.imageData(0, 1500);
        OnnxModel pruned = run(MnistCnn.untrained(new java.util.SplittableRandom(3)), images, List.of(
                new Step(new StructuredPruningPlugin(), Map.of("ratio", "0.5")))).get(0).model();
        PluginResult tuned = run(pruned, images, List.of(new Step(new FineTunePlugin(),
                Map.of("epochs", "3", "learning-rate", "0.003", "patience", "0")))).get(0);
        assertTrue(tuned.figures().get("best-epoch") >= 1, "the pruned CNN trains: " + tuned.changes());
        assertEquals(MnistCnn.multiplyAdds(pruned), MnistCnn.multiplyAdds(tuned.model()), "no channel comes back");
        assertTrue(MnistCnn.multiplyAdds(pruned) * 3 < MnistCnn.multiplyAdds(MnistCnn.untrained(
                new java.util.SplittableRandom(3))), "half the channels of every layer gone");
        for (int i = 0; i < pruned.proto().getGraph().getInitializerCount(); i++) {
            assertEquals(pruned.proto().getGraph().getInitializer(i).getDimsList(),
                    tuned.model().proto().getGraph().getInitializer(i).getDimsList());
        }
    }

    /** Codebook fine-tuning changes codebooks only: every index tensor (integers) keeps its bytes. */
    private static void assertSameIndices(OnnxModel shared, OnnxModel tuned) {
        List<TensorProto> before = shared.proto().getGraph().getInitializerList();
        List<TensorProto> after = tuned.proto().getGraph().getInitializerList();
        assertEquals(before.size(), after.size());
        int indices = 0;
        for (int i = 0; i < before.size(); i++) {
            if (before.get(i).getDataType() != TensorProto.DataType.FLOAT_VALUE) {
                indices++;
                assertEquals(before.get(i), after.get(i), "index tensor " + before.get(i).getName() + " unchanged");
            }
        }
        assertTrue(indices >= 3, "every shared layer has its index tensor: " + indices);
    }

    private List<PluginResult> run(OnnxModel original, CalibrationData data, List<Step> chain) throws Exception {
        List<PluginResult> results = new ArrayList<>();
        OnnxModel model = original;
        int index = 0;
        for (Step step : chain) {
            Path folder = Files.createDirectories(temp.resolve(index++ + "-" + step.plugin().id()));
            PluginResult result = step.plugin().apply(model,
                    PluginOptions.resolve(step.plugin().options(), step.options()),
                    PluginTestContext.in(folder).withCalibration(data));
            results.add(result);
            model = result.model();
        }
        return results;
    }

    private record Step(CompressionPlugin plugin, Map<String, String> options) {
    }
}

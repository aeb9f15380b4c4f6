package io.modelpress.plugins.features;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.inference.OrtRunner;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.Mnist;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.PluginTestContext;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped MNIST MLP: pixels near the border are blank in nearly every digit, so they carry no
 * information. With calibration digits the plugin must find them, although training left their
 * weights at their random start, and the smaller model must classify the held-out digits as well.
 */
class MnistFeatureSelectionTest {

    @TempDir
    Path temp;

    @Test
    void blankBorderPixelsLeaveAndHeldOutAccuracyHolds() throws Exception {
        OnnxModel model = MnistModels.mlp();
        FeatureSelectionPlugin plugin = new FeatureSelectionPlugin();
        PluginTestContext context = PluginTestContext.in(temp)
                .withCalibration(MnistModels.calibration("pixels", 0, 2000, 500));
        PluginResult result = plugin.apply(model, PluginOptions.defaults(plugin.options()), context);

        int[] kept = FeatureSelectionPluginTest.parseRanges(
                FeatureSelectionPluginTest.metadata(result.model(), "feature-selection:pixels"));
        assertEquals(kept.length, result.figures().get("features-after"));
        assertTrue(kept.length < Mnist.PIXELS - 100, "at least 100 pixels go: " + result.changes());
        for (int corner : new int[] {0, 27, 28 * 27, 28 * 28 - 1}) {
            assertTrue(Arrays.binarySearch(kept, corner) < 0, "corner pixel " + corner + " is removed");
        }
        assertTrue(Arrays.binarySearch(kept, 14 * 28 + 14) >= 0, "the centre pixel stays");
        assertTrue(result.figures().get("fidelity-loss") <= 0.01, result.changes().toString());

        double before = MnistModels.accuracy(model, MnistModels.TRAIN, 10_000);
        double after = accuracy(result.model(), kept, MnistModels.TRAIN, 10_000);
        System.out.printf("MNIST MLP: %d → %d pixels, parameters %.0f → %.0f, held-out top-1 %.4f → %.4f%n",
                Mnist.PIXELS, kept.length, result.figures().get("parameters-before"),
                result.figures().get("parameters-after"), before, after);
        assertTrue(after >= before - 0.005, "held-out accuracy " + before + " → " + after);
    }

    /** Top-1 accuracy on digits [from, to) with each image cut to the {@code kept} pixels. */
    static double accuracy(OnnxModel model, int[] kept, int from, int to) {
        Mnist digits = Mnist.load();
        int correct = 0;
        try (OrtRunner runner = OrtRunner.open(model)) {
            String input = runner.inputNames().get(0);
            float[] images = digits.images(from, to);
            int count = to - from;
            float[] narrowed = new float[count * kept.length];
            for (int i = 0; i < count; i++) {
                for (int k = 0; k < kept.length; k++) {
                    narrowed[i * kept.length + k] = images[i * Mnist.PIXELS + kept[k]];
                }
            }
            TensorData batch = TensorData.ofFloats(new long[] {count, kept.length}, narrowed);
            float[] scores = runner.run(Map.of(input, batch)).values().iterator().next().toFloats();
            for (int i = 0; i < count; i++) {
                int best = 0;
                for (int c = 1; c < Mnist.CLASSES; c++) {
                    best = scores[i * Mnist.CLASSES + c] > scores[i * Mnist.CLASSES + best] ? c : best;
                }
                correct += best == digits.label(from + i) ? 1 : 0;
            }
        }
        return (double) correct / (to - from);
    }
}

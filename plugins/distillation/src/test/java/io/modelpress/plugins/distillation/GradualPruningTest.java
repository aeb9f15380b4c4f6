package io.modelpress.plugins.distillation;

import static io.modelpress.plugins.distillation.FineTunePluginTest.pruned;
import static io.modelpress.plugins.distillation.FineTunePluginTest.values;
import static io.modelpress.plugins.distillation.FineTunePluginTest.weightNames;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.PluginTestContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pruning during fine-tuning reaches its target along the cubic schedule, never lets a weight back, and repeats. */
class GradualPruningTest {

    private static final Pattern SPARSITY = Pattern.compile("sparsity (\\d+\\.\\d)%");

    @TempDir
    Path temp;

    @Test
    void theScheduleRisesAlongTheCubeAndEndsAtTheTarget() {
        int n = 10;
        assertEquals(0.9, GradualPruning.sparsityAt(0, 0.9, n, n), 0, "the last step is the target");
        assertEquals(0.9, GradualPruning.sparsityAt(0.5, 0.9, n, n), 0, "from any start");
        assertEquals(0.0, GradualPruning.sparsityAt(0, 0.9, 0, n), 0);
        assertEquals(0.9 * (1 - 0.9 * 0.9 * 0.9), GradualPruning.sparsityAt(0, 0.9, 1, n), 1e-12);
        double previousRise = Double.POSITIVE_INFINITY;
        for (int j = 1; j <= n; j++) {
            double rise = GradualPruning.sparsityAt(0, 0.9, j, n) - GradualPruning.sparsityAt(0, 0.9, j - 1, n);
            assertTrue(rise > 0 && rise < previousRise, "large cuts first, smaller ones later: step " + j);
            previousRise = rise;
        }
        assertEquals(700, GradualPruning.trainingStep(n, n, 0.7, 1000), "done after 70% of the steps");
        assertEquals(1000, GradualPruning.trainingStep(n, n, 1.0, 1000), "at the latest on the last step");
        assertEquals(1, GradualPruning.trainingStep(1, 500, 0.7, 100), "more pruning steps than training steps");
    }

    /** Training moves the weights between the cuts, small ones included: no mask may lose a position. */
    @Test
    void masksOnlyGrowWhileTheWeightsMoveAndTheCountIsExact() throws Exception {
        SplittableRandom random = new SplittableRandom(3);
        float[] values = new float[64 * 32];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        values[5] = 0f; // an earlier step's zero
        ConstrainedTensor tensor = ConstrainedTensor.of(new TrainableGraph.Trainable("w", new long[] {64, 32}, values,
                TrainableGraph.Role.WEIGHT, 32, 1));
        GradualPruning pruning = GradualPruning.of(List.of(tensor), 0.8, 25, 0.6);
        boolean[] before = mask(tensor);
        long trainingSteps = 100;
        for (long step = 1; step <= trainingSteps; step++) {
            for (int k = 0; k < tensor.freeCount(); k++) {
                tensor.add(k, (float) (0.5 * random.nextGaussian())); // orphaned free values move too
            }
            pruning.advance(step, trainingSteps);
            boolean[] after = mask(tensor);
            for (int i = 0; i < after.length; i++) {
                assertTrue(!before[i] || after[i], "position " + i + " was pruned before training step " + step
                        + " and is free again");
            }
            float[] now = tensor.values();
            for (int i = 0; i < after.length; i++) {
                if (after[i]) {
                    assertEquals(0f, now[i], "a pruned position reads zero");
                }
            }
            before = after;
            assertEquals(step >= 60, pruning.finished(), "the schedule ends at 60% of the steps, step " + step);
        }
        assertEquals(Math.round(0.8 * values.length), tensor.pruned(), "exactly the target's count of zeros");
        assertTrue(mask(tensor)[5], "the earlier zero stays");
    }

    @Test
    void fineTuningWithPruneToEndsAtTheTargetRisingGraduallyAndKeepsEarlierZeros() throws Exception {
        OnnxModel half = pruned(MnistModels.mlp(), 0.5);
        PluginTestContext context = PluginTestContext.in(temp).withCalibration(
                MnistModels.calibration(MnistModels.mlp().proto().getGraph().getInput(0).getName(), 0, 1000, 100));
        CompressionPlugin plugin = new FineTunePlugin();
        PluginResult result = plugin.apply(half, PluginOptions.resolve(plugin.options(), options("0.9", "42")),
                context);

        long zeros = 0;
        long total = 0;
        for (String name : weightNames(half)) {
            float[] given = values(half, name);
            float[] tuned = values(result.model(), name);
            for (int i = 0; i < given.length; i++) {
                if (given[i] == 0f) {
                    assertEquals(0f, tuned[i], "an earlier zero of " + name + " at " + i + " comes back");
                }
                zeros += tuned[i] == 0f ? 1 : 0;
            }
            total += given.length;
        }
        assertEquals(Math.round(0.9 * total), zeros, "the weights end exactly at the target sparsity");
        assertEquals(0.9, result.figures().get("sparsity"), 1e-4);
        assertTrue(result.changes().stream().anyMatch(c -> c.startsWith("pruned gradually during training")
                && c.contains("from 50.0% to 90.0% sparse in 20 steps")), result.changes().toString());

        List<Double> reported = new ArrayList<>();
        for (PluginTestContext.Progress progress : context.progressReports()) {
            Matcher matcher = SPARSITY.matcher(progress.message());
            if (matcher.find()) {
                reported.add(Double.parseDouble(matcher.group(1)));
            }
        }
        assertTrue(reported.size() > 10, "every batch reports the sparsity: " + reported);
        for (int i = 1; i < reported.size(); i++) {
            assertTrue(reported.get(i) >= reported.get(i - 1), "sparsity never falls: " + reported);
        }
        assertTrue(reported.stream().anyMatch(s -> s > 50 && s < 89), "it rises in steps: " + reported);
        assertEquals(90.0, reported.get(reported.size() - 1));
    }

    @Test
    void theSameSeedGivesTheSameBytesAndAnotherSeedOthers() throws Exception {
        byte[] first = tune(MnistModels.mlp(), options("0.8", "42")).model().toByteArray();
        byte[] again = tune(MnistModels.mlp(), options("0.8", "42")).model().toByteArray();
        byte[] otherSeed = tune(MnistModels.mlp(), options("0.8", "7")).model().toByteArray();
        assertArrayEquals(first, again, "seed 42 twice");
        assertFalse(Arrays.equals(first, otherSeed), "seed 7 draws another split and order");
    }

    @Test
    void aTimeLimitBeforeTheScheduleEndsStillReachesTheTarget() throws Exception {
        Map<String, String> options = options("0.9", "42");
        options.put("time-limit", "0.001");
        PluginResult result = tune(MnistModels.mlp(), options);
        assertEquals(0.9, result.figures().get("sparsity"), 1e-4, result.changes().toString());
        assertTrue(result.changes().stream().anyMatch(c -> c.contains("before the pruning schedule ended: the rest was"
                + " pruned at once")), result.changes().toString());
    }

    @Test
    void aTargetTheWeightsAlreadyMeetIsRefusedWithTheReason() {
        PluginException refused = assertThrows(PluginException.class,
                () -> tune(pruned(MnistModels.mlp(), 0.9), options("0.8", "42")));
        assertTrue(refused.getMessage().startsWith("nothing to prune gradually: the 234,752 weights of the pruned"
                + " tensors are already 90.0% sparse, at or above prune-to 80.0%"), refused.getMessage());
    }

    private static Map<String, String> options(String target, String seed) {
        return new HashMap<>(Map.of("epochs", "2", "patience", "0", "learning-rate", "0.001", "prune-to", target,
                "prune-steps", "20", "prune-until", "0.6", "seed", seed));
    }

    private PluginResult tune(OnnxModel model, Map<String, String> options) throws Exception {
        CompressionPlugin plugin = new FineTunePlugin();
        PluginTestContext context = PluginTestContext.in(temp).withCalibration(
                MnistModels.calibration(MnistModels.mlp().proto().getGraph().getInput(0).getName(), 0, 600, 100));
        return plugin.apply(model, PluginOptions.resolve(plugin.options(), options), context);
    }

    private static boolean[] mask(ConstrainedTensor tensor) {
        boolean[] mask = new boolean[tensor.size()];
        for (int i = 0; i < mask.length; i++) {
            mask[i] = tensor.isPruned(i);
        }
        return mask;
    }
}

package io.modelpress.plugins.distillation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.model.OnnxModel;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.PluginTestContext;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Seeds, progress, cancellation and unlabelled transfer sets, on short runs over part of the digits. */
class DistillationTrainingTest {

    private final DistillationPlugin plugin = new DistillationPlugin();
    private final OnnxModel teacher = MnistModels.mlp();

    @Test
    void theSameSeedGivesTheSameStudentByteForByte(@TempDir Path temp) throws Exception {
        byte[] first = distil(temp, Map.of("seed", "7")).model().toByteArray();
        byte[] second = distil(temp, Map.of("seed", "7")).model().toByteArray();
        byte[] otherSeed = distil(temp, Map.of("seed", "8")).model().toByteArray();

        assertArrayEquals(first, second, "two runs with seed 7");
        assertFalse(Arrays.equals(first, otherSeed), "seed 8 draws other weights and batches");
    }

    @Test
    void reportsEveryEpochWithItsLossAndHeldOutAgreement(@TempDir Path temp) throws Exception {
        PluginTestContext context = context(temp, true);
        PluginResult result = plugin.apply(teacher, options(Map.of("epochs", "3", "patience", "0")), context);

        List<PluginTestContext.Progress> reports = context.progressReports();
        List<String> epochs = reports.stream().map(PluginTestContext.Progress::message)
                .filter(message -> message.matches("epoch \\d of 3: training loss [\\d.]+, held-out loss [\\d.]+,"
                        + " held-out agreement [\\d.]+%"))
                .toList();
        assertEquals(3, epochs.size(), "one summary per epoch: " + epochs);
        for (int i = 1; i < reports.size(); i++) {
            assertTrue(reports.get(i).fraction() >= reports.get(i - 1).fraction(),
                    "progress goes forward: " + reports.get(i));
        }
        assertEquals(1.0, reports.get(reports.size() - 1).fraction());
        assertEquals(3, result.figures().get("epochs"));
        assertTrue(result.changes().stream().anyMatch(change -> change.contains("held-out agreement")),
                "" + result.changes());
        assertTrue(result.figures().containsKey("holdout-accuracy-student"), "labelled rows give accuracy");
    }

    @Test
    void learnsFromTheTeacherAloneWhenTheTransferSetHasNoLabels(@TempDir Path temp) throws Exception {
        PluginTestContext context = context(temp, false);
        PluginResult result = plugin.apply(teacher, options(Map.of()), context);

        assertTrue(result.skipped().stream().anyMatch(skip -> skip.part().equals("labels")), "" + result.skipped());
        assertFalse(result.figures().containsKey("holdout-accuracy-student"));
        // two short epochs on 1,800 rows: the student already agrees with the teacher far above chance (10%)
        assertTrue(result.figures().get("holdout-agreement") > 0.7, "" + result.figures());
        assertTrue(MnistModels.accuracy(result.model(), MnistModels.TRAIN, 10000) > 0.7);
    }

    @Test
    void stopsWhenCancelledBeforeItStarts(@TempDir Path temp) {
        PluginTestContext context = context(temp, true);
        context.cancel();
        assertThrows(CancellationException.class, () -> plugin.apply(teacher, options(Map.of()), context));
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS) // guards against a hang only: without the cancel it trains for hours
    void stopsTrainingWhenCancelled(@TempDir Path temp) throws Exception {
        PluginTestContext context = context(temp, true);
        CompletableFuture<Void> canceller = CompletableFuture.runAsync(() -> {
            while (context.progressReports().stream().noneMatch(report -> report.message().startsWith("epoch 1 of"))) {
                Thread.onSpinWait();
            }
            context.cancel();
        });
        PluginOptions endless = options(Map.of("epochs", "1000", "patience", "0", "batch-size", "8"));

        assertThrows(CancellationException.class, () -> plugin.apply(teacher, endless, context));
        canceller.get();
        assertTrue(context.progressReports().stream().noneMatch(report -> report.message().startsWith("epoch 3 of")),
                "stopped in the first epochs");
    }

    @Test
    void anL1PenaltyLeavesMoreOfTheStudentsWeightsNearZero(@TempDir Path temp) throws Exception {
        double plain = nearZeroShare(distil(temp, Map.of("patience", "0")).model());
        double penalised = nearZeroShare(distil(temp, Map.of("patience", "0", "l1", "0.001")).model());
        assertTrue(penalised > 2 * plain, "l1 drives weights to zero: " + plain + " -> " + penalised);
    }

    /** Share of the weight-matrix values (rank 2 and more) below 1e-3 in magnitude. */
    private static double nearZeroShare(OnnxModel model) {
        long near = 0;
        long all = 0;
        for (var tensor : model.proto().getGraph().getInitializerList()) {
            if (tensor.getDimsCount() >= 2) {
                for (float value : io.modelpress.model.Tensors.toFloats(tensor)) {
                    all++;
                    near += Math.abs(value) < 1e-3 ? 1 : 0;
                }
            }
        }
        return (double) near / all;
    }

    private PluginResult distil(Path temp, Map<String, String> options) throws Exception {
        return plugin.apply(teacher, options(options), context(temp, true));
    }

    private static PluginTestContext context(Path temp, boolean labelled) {
        return PluginTestContext.in(temp)
                .withCalibration(MnistTeachers.digits(0, 2000, 100, MnistTeachers.FLAT, labelled));
    }

    /** Short runs: two epochs, large batches, no mixtures. */
    private PluginOptions options(Map<String, String> overrides) {
        Map<String, String> values = new HashMap<>(Map.of("epochs", "2", "batch-size", "128", "mixup", "0"));
        values.putAll(overrides);
        return PluginOptions.resolve(plugin.options(), values);
    }
}

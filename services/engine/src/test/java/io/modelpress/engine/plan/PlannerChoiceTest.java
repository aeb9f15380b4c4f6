package io.modelpress.engine.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.ChainStep;
import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.ProgressListener;
import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.engine.profile.HardwareProfiles;
import io.modelpress.model.LoadLimits;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.Precision;
import io.modelpress.testkit.MnistModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The planner's choices with the real technique plugins, on the MNIST classifier, in cases where
 * the right answer is known.
 */
class PlannerChoiceTest {

    private static final Set<String> INTEGER_PLUGINS = Set.of("int8-dynamic", "int8-static", "int4-block");

    @TempDir
    Path temp;

    private final PluginRegistry plugins = PluginRegistry.discover(getClass().getClassLoader());
    private final Planner planner = new Planner(new CompressionEngine(plugins, LoadLimits.DEFAULT));
    private Path model;

    @BeforeEach
    void copyModel() {
        model = MnistModels.copy(temp.resolve("in"));
    }

    @Test
    void aProfileThatDoesNotRunInt8GetsNoInt8() {
        HardwareProfile gpu = HardwareProfiles.builtIn().require("nvidia-fp16");
        assertFalse(gpu.runs(Precision.INT8));

        Planning planning = plan(gpu, Budget.of(gpu).withMaxAccuracyDrop(1));

        List<Trial> measured = planning.trials().stream().filter(Trial::measured).toList();
        assertFalse(measured.isEmpty());
        measured.forEach(trial -> assertFalse(usesIntegerPlugin(trial), trial.chainText()));
        List<Trial> integerTrials = planning.trials().stream().filter(PlannerChoiceTest::usesIntegerPlugin).toList();
        assertFalse(integerTrials.isEmpty(), "the catalogue has int8 chains; each must be set aside with the reason");
        integerTrials.forEach(trial -> assertTrue(trial.error().orElseThrow().endsWith("does not serve profile 'nvidia-fp16'"),
                trial.chainText() + ": " + trial.error()));
        assertTrue(planning.chosen().orElseThrow().chain().stream().anyMatch(step -> step.pluginId().equals("fp16")),
                planning.explanation());
        Trial deepCompression = planning.trials().stream()
                .filter(trial -> trial.chain().stream().anyMatch(step -> step.pluginId().equals("weight-sharing")))
                .findFirst().orElseThrow();
        assertTrue(deepCompression.error().orElseThrow().startsWith("for integer targets"), deepCompression.toString());
        assertTrue(gpu.latencyBudgetMillis().isPresent(), "the built-in GPU profile has a latency budget");
        assertTrue(planning.explanation().contains("the latency budget was not checked")
                && planning.explanation().contains("'cuda'"), "CPU timings are not held against a GPU's budget: "
                + planning.explanation());
    }

    @Test
    void aSizeBudgetOnlyPruningCanMeetChoosesPruning() throws IOException {
        HardwareProfile gpu = HardwareProfiles.builtIn().require("nvidia-fp16");
        long original = Files.size(model);
        // Half precision alone halves the model; 40% of it takes removing neurons as well.
        Planning planning = plan(gpu, Budget.of(gpu).withMaxAccuracyDrop(1).withMaxBytes(original * 2 / 5));

        assertTrue(planning.metBudget(), planning.explanation());
        Trial halfPrecisionOnly = trial(planning, List.of("graph-cleanup", "fp16"));
        assertTrue(halfPrecisionOnly.measured() && !halfPrecisionOnly.meetsBudget(), halfPrecisionOnly.toString());
        assertTrue(halfPrecisionOnly.violations().get(0).contains("bytes is over"), halfPrecisionOnly.violations().toString());
        Trial chosen = planning.chosen().orElseThrow();
        assertEquals("structured-pruning", chosen.chain().get(1).pluginId(), planning.explanation());
        assertTrue(chosen.bytes() <= original * 2 / 5);
    }

    @Test
    void anAccuracyBudgetTooTightForInt4FallsBackToInt8() {
        HardwareProfile vnni = HardwareProfiles.builtIn().require("x86-vnni");
        assertTrue(vnni.runs(Precision.INT4));

        // A tenth of a point of top-1 agreement with the original: 4-bit weights lose more than that here.
        Planning planning = plan(vnni, Budget.of(vnni).withoutLatency().withMaxAccuracyDrop(0.1));

        Trial int4 = trial(planning, List.of("graph-cleanup", "int4-block"));
        assertTrue(int4.measured(), int4.toString());
        assertTrue(int4.drop().orElseThrow() > 0.1, "int4 drop " + int4.drop());
        assertTrue(int4.violations().stream().anyMatch(v -> v.startsWith("agreement with the original on held-out real data drop")),
                int4.violations().toString());
        Trial chosen = planning.chosen().orElseThrow();
        assertTrue(planning.metBudget(), planning.explanation());
        assertEquals(List.of("graph-cleanup", "int8-dynamic"), ids(chosen), planning.explanation());
        assertTrue(chosen.bytes() > int4.bytes(), "int4 was smaller, and set aside only for its drop");
    }

    private Planning plan(HardwareProfile profile, Budget budget) {
        // Fidelity on held-out digits: the drop is lost top-1 agreement with the original.
        return planner.compress(new PlanRequest(model, profile, budget, temp.resolve("out"),
                Optional.of(MnistModels.calibration("pixels", 8000, 10000, 500)), Optional.empty()), ProgressListener.NONE)
                .planning().orElseThrow();
    }

    private static Trial trial(Planning planning, List<String> pluginIds) {
        return planning.trials().stream().filter(t -> ids(t).equals(pluginIds)).findFirst()
                .orElseThrow(() -> new AssertionError("no trial of " + pluginIds));
    }

    private static List<String> ids(Trial trial) {
        return trial.chain().stream().map(ChainStep::pluginId).toList();
    }

    private static boolean usesIntegerPlugin(Trial trial) {
        return trial.chain().stream().anyMatch(step -> INTEGER_PLUGINS.contains(step.pluginId()));
    }
}

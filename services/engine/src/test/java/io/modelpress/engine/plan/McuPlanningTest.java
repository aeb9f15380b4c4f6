package io.modelpress.engine.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.CompressionReport;
import io.modelpress.engine.ProgressListener;
import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.engine.profile.HardwareProfiles;
import io.modelpress.model.LoadLimits;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.testkit.MnistModels;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The microcontroller profile on a real digit classifier: every budget it declares is checked or refused. */
class McuPlanningTest {

    private static final long MCU_SRAM = 512 * 1024;

    @TempDir
    Path temp;

    @Test
    void everyCandidateIsHeldToTheListedOperatorsAndTheChoiceToTheMeasuredMemory() {
        HardwareProfile mcu = HardwareProfiles.builtIn().require("mcu");
        Path model = MnistModels.copy(temp.resolve("in"));
        String input = OnnxModel.load(model).proto().getGraph().getInput(0).getName();
        Planner planner = new Planner(new CompressionEngine(PluginRegistry.discover(getClass().getClassLoader()),
                LoadLimits.DEFAULT));
        CompressionReport report = planner.compress(new PlanRequest(model, mcu, Budget.of(mcu), temp.resolve("out"),
                Optional.of(MnistModels.calibration(input, 8000, 8300, 50)), Optional.empty()), ProgressListener.NONE);

        Planning planning = report.planning().orElseThrow();
        Trial dynamic = trial(planning, "graph-cleanup -> int8-dynamic");
        assertTrue(dynamic.verdict().orElseThrow().contains("compute in floating point"),
                "dynamic quantization computes its activations' scales in floating point: " + dynamic.verdict());
        Trial shared = planning.trials().stream().filter(t -> t.measured() && t.chainText().contains("weight-sharing"))
                .findFirst().orElseThrow();
        assertTrue(shared.verdict().orElseThrow().contains("uses operators Cast, Gather that profile 'mcu' does not list"),
                shared.verdict().toString());

        Trial qdq = trial(planning, "graph-cleanup -> int8-static");
        assertFalse(qdq.verdict().orElseThrow().contains("operator"), "static QDQ is what the target runs: " + qdq.verdict());
        long measured = qdq.memoryBytes().orElseThrow();
        assertTrue(measured > 0, qdq.toString());
        if (measured <= MCU_SRAM) {
            assertEquals(CompressionReport.COMPLETE, report.status(), planning.explanation());
            assertEquals(qdq.index(), planning.chosen().orElseThrow().index());
            assertEquals(BudgetCheck.MET, check(planning, "memory").state());
            assertEquals(measured + " bytes", check(planning, "memory").actual().orElseThrow());
            BudgetCheck operators = check(planning, "operators");
            assertEquals(BudgetCheck.MET, operators.state(), operators.toString());
            assertTrue(operators.actual().orElseThrow().contains("QuantizeLinear"), operators.toString());
            assertEquals(1, planning.trials().stream().filter(t -> t.memoryBytes().isPresent()).count(),
                    "only the finalist is measured");
        } else {
            assertTrue(qdq.verdict().orElseThrow().contains("session memory " + measured + " bytes is over the "
                    + MCU_SRAM + " allowed"), qdq.verdict().toString());
        }
    }

    private static Trial trial(Planning planning, String chain) {
        return planning.trials().stream().filter(t -> t.chainText().equals(chain)).findFirst().orElseThrow(
                () -> new AssertionError("no trial " + chain + " in " + planning.trials()));
    }

    private static BudgetCheck check(Planning planning, String budget) {
        return planning.checks().stream().filter(c -> c.budget().equals(budget)).findFirst().orElseThrow();
    }
}

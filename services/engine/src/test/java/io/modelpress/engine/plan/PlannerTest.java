package io.modelpress.engine.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.CompressionReport;
import io.modelpress.engine.EngineException;
import io.modelpress.engine.ProgressListener;
import io.modelpress.engine.TestProfiles;
import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.model.LoadLimits;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.MnistModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The planner with the plugins on this module's class path. */
class PlannerTest {

    @TempDir
    Path temp;

    private final Planner planner = new Planner(new CompressionEngine(PluginRegistry.discover(getClass().getClassLoader()),
            LoadLimits.DEFAULT));

    @Test
    void anImpossibleBudgetKeepsTheOriginalAndNamesTheClosestCandidateAndWhatWouldHelp() throws IOException {
        Path model = MnistModels.copy(temp.resolve("in"));
        Budget oneKilobyte = Budget.of(TestProfiles.cpu()).withMaxBytes(1024);
        CompressionReport report = planner.compress(new PlanRequest(model, TestProfiles.cpu(), oneKilobyte,
                temp.resolve("out"), Optional.empty(), Optional.empty()), ProgressListener.NONE);

        Planning planning = report.planning().orElseThrow();
        assertFalse(planning.metBudget());
        assertEquals(CompressionReport.KEPT_ORIGINAL, report.status());
        assertTrue(planning.chosen().isEmpty(), "nothing is passed off as meeting the budget");
        Trial closest = planning.closest().orElseThrow();
        assertTrue(closest.violations().stream().anyMatch(v -> v.endsWith("bytes is over the 1024 allowed")),
                closest.violations().toString());
        assertTrue(planning.explanation().startsWith("no candidate meets the budget; kept the original. The closest was "),
                planning.explanation());
        String hint = report.hint().orElseThrow();
        assertTrue(hint.contains("came closest and would pass with") && hint.contains("the size budget to ")
                && hint.contains("give real inputs"), hint);
        assertEquals(report.original().parameters(), report.compressed().parameters(), "the original, unchanged");
        assertTrue(Files.exists(temp.resolve("out/model.onnx")), "the original is written as the result");
    }

    @Test
    void aMemoryBudgetIsCheckedByMeasuringTheFinalistsSessionsInAProcessOfTheirOwn() throws IOException {
        Path model = MnistModels.copy(temp.resolve("in"));
        // 64 KiB: less than any of these models' weights, so each finalist's measured session is over it.
        long tinyLimit = 64 * 1024;
        CompressionReport report = planner.compress(new PlanRequest(model, TestProfiles.cpu(),
                Budget.of(TestProfiles.cpu()).withMaxMemoryBytes(tinyLimit), temp.resolve("out"), Optional.empty(),
                Optional.empty()), ProgressListener.NONE);

        Planning planning = report.planning().orElseThrow();
        assertEquals(CompressionReport.KEPT_ORIGINAL, report.status(), planning.explanation());
        List<Trial> measured = planning.trials().stream().filter(trial -> trial.memoryBytes().isPresent()).toList();
        assertFalse(measured.isEmpty(), "the finalists were measured: " + planning.trials());
        measured.forEach(trial -> {
            assertTrue(trial.memoryBytes().getAsLong() > tinyLimit, trial.toString());
            assertTrue(trial.verdict().orElseThrow().contains("session memory " + trial.memoryBytes().getAsLong()
                    + " bytes is over the " + tinyLimit + " allowed"), trial.verdict().toString());
        });
        assertTrue(report.hint().orElseThrow().contains("the memory budget to "), report.hint().toString());

        // With room to spare the smallest finalist fits, and only it is measured.
        CompressionReport roomy = planner.compress(new PlanRequest(model, TestProfiles.cpu(),
                Budget.of(TestProfiles.cpu()).withMaxMemoryBytes(256L << 20), temp.resolve("roomy"), Optional.empty(),
                Optional.empty()), ProgressListener.NONE);
        Planning roomyPlanning = roomy.planning().orElseThrow();
        BudgetCheck memory = memoryCheck(roomyPlanning);
        assertEquals(BudgetCheck.MET, memory.state(), memory.toString());
        long chosenBytes = roomyPlanning.chosen().orElseThrow().memoryBytes().orElseThrow();
        assertEquals(chosenBytes + " bytes", memory.actual().orElseThrow());
        assertTrue(memory.note().orElseThrow().contains("VmHWM"), memory.toString());
        assertEquals(1, roomyPlanning.trials().stream().filter(trial -> trial.memoryBytes().isPresent()).count(),
                "only the finalist is measured");
    }

    private static BudgetCheck memoryCheck(Planning planning) {
        return planning.checks().stream().filter(check -> check.budget().equals("memory")).findFirst().orElseThrow();
    }

    @Test
    void theSameInputsGiveTheSameChoiceAndByteIdenticalArtifacts() throws IOException {
        Path model = MnistModels.copy(temp.resolve("in"));
        CompressionReport first = plan(model, temp.resolve("first"));
        CompressionReport second = plan(model, temp.resolve("second"));
        assertEquals(first.planning().orElseThrow().chosen().orElseThrow().chain(),
                second.planning().orElseThrow().chosen().orElseThrow().chain());
        assertArrayEquals(Files.readAllBytes(temp.resolve("first/model.onnx")), Files.readAllBytes(temp.resolve("second/model.onnx")));
        assertEquals(first.compressed().digest(), second.compressed().digest());
    }

    @Test
    void evaluationLabelsThatDoNotFitTheOutputAreRefusedBeforeAnyWork() throws IOException {
        Path model = MnistModels.copy(temp.resolve("in"));
        CalibrationData tooManyClasses = CalibrationData.of(
                List.of(Map.of("pixels", TensorData.ofFloats(new long[] {2, 784}, new float[2 * 784]))),
                List.of(TensorData.ofLongs(new long[] {2}, new long[] {3, 12})));
        EngineException e = assertThrows(EngineException.class, () -> planner.compress(new PlanRequest(model,
                TestProfiles.cpu(), Budget.of(TestProfiles.cpu()), temp.resolve("out"), Optional.empty(),
                Optional.of(tooManyClasses)), ProgressListener.NONE));
        assertEquals("evaluation label 12 (sample 0, row 1) is not a class of output 'logits', which scores 10 classes",
                e.getMessage());
    }

    private CompressionReport plan(Path model, Path out) {
        return planner.compress(new PlanRequest(model, TestProfiles.cpu(), Budget.of(TestProfiles.cpu()), out,
                Optional.of(MnistModels.calibration("pixels", 8000, 8200, 100)),
                Optional.of(MnistModels.calibration("pixels", 8000, 10000, 500))), ProgressListener.NONE);
    }
}

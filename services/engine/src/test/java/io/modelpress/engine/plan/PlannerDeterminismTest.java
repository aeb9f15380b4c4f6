package io.modelpress.engine.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.CompressionReport;
import io.modelpress.engine.ProgressListener;
import io.modelpress.engine.Reference;
import io.modelpress.engine.TestProfiles;
import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.model.LoadLimits;
import io.modelpress.spi.CalibrationData;
import io.modelpress.testkit.MnistModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The planner's choice depends on the model, the data and the budget only: not on how busy the
 * machine is, and not on the probe that rules candidates out early.
 */
class PlannerDeterminismTest {

    @TempDir
    Path temp;

    private final CompressionEngine engine = new CompressionEngine(PluginRegistry.discover(getClass().getClassLoader()),
            LoadLimits.DEFAULT);

    /** 60 digits of batch 10: 20 judge (more than the probe), 40 tune. */
    private static CalibrationData data() {
        return MnistModels.calibration("pixels", 8000, 8600, 10);
    }

    @Test
    void aBusyMachineGivesTheSameChoiceAndTheSameFigures() throws Exception {
        Path model = MnistModels.copy(temp.resolve("in"));
        Budget budget = Budget.of(TestProfiles.cpu());
        Planner planner = new Planner(engine);
        Planning idle = plan(planner, model, budget, "idle").planning().orElseThrow();

        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> busy = new ArrayList<>();
        for (int i = 0; i < Runtime.getRuntime().availableProcessors(); i++) {
            Thread thread = new Thread(() -> {
                long spin = 0;
                while (!stop.get()) {
                    spin++;
                }
                if (spin == 42) {
                    System.out.print("");
                }
            }, "busy-" + i);
            thread.setDaemon(true);
            thread.start();
            busy.add(thread);
        }
        Planning loaded;
        try {
            loaded = plan(planner, model, budget, "loaded").planning().orElseThrow();
        } finally {
            stop.set(true);
            for (Thread thread : busy) {
                thread.join();
            }
        }

        assertTrue(idle.metBudget(), idle.explanation());
        assertEquals(idle.chosen().orElseThrow().chain(), loaded.chosen().orElseThrow().chain());
        assertSameFigures(idle, loaded);
    }

    @Test
    void theProbeRulesOutCandidatesWithoutChangingTheChoiceOrAnyFullyJudgedFigure() throws Exception {
        Path model = MnistModels.copy(temp.resolve("in"));
        // No lost top-1 agreement allowed: lossy candidates show it within the probe's 8 samples.
        Budget strict = Budget.of(TestProfiles.cpu()).withMaxAccuracyDrop(0.5);
        Planning probed = plan(new Planner(engine, Candidates.CATALOGUE, true), model, strict, "probed")
                .planning().orElseThrow();
        Planning full = plan(new Planner(engine, Candidates.CATALOGUE, false), model, strict, "full")
                .planning().orElseThrow();

        assertEquals(full.chosen().map(Trial::chain), probed.chosen().map(Trial::chain));
        assertEquals(full.metBudget(), probed.metBudget());
        List<Trial> stopped = probed.trials().stream()
                .filter(trial -> trial.violations().stream().anyMatch(v -> v.startsWith("on the probe"))).toList();
        assertFalse(stopped.isEmpty(), "some candidate is ruled out on the probe: " + probed.trials());
        for (Trial trial : probed.trials()) {
            Trial other = full.trials().get(trial.index());
            if (stopped.contains(trial)) {
                assertFalse(other.meetsBudget(), "ruled out on the probe, and judged on all it misses too: " + other);
                trial.fidelity().forEach(output -> assertEquals(Reference.PROBE_SAMPLES, output.samples()));
            } else {
                assertEquals(other.fidelity(), trial.fidelity(), "judged on all the judging data: " + trial.chainText());
                assertEquals(other.violations(), trial.violations());
                trial.fidelity().forEach(output -> assertEquals(20, output.samples()));
            }
        }
    }

    @Test
    void aTimeLimitThatRunsOutLeavesTheLaterCandidatesUntriedAndSaysSo() throws Exception {
        Path model = MnistModels.copy(temp.resolve("in"));
        Budget noTime = Budget.of(TestProfiles.cpu()).withTimeLimit(java.time.Duration.ofNanos(1));
        CompressionReport report = plan(new Planner(engine), model, noTime, "cut");

        Planning planning = report.planning().orElseThrow();
        List<Trial> untried = planning.trials().stream()
                .filter(trial -> trial.error().orElse("").equals(Planner.TIME_RAN_OUT)).toList();
        assertFalse(untried.isEmpty());
        untried.forEach(trial -> assertEquals(Trial.NOT_TRIED, trial.outcome()));
        assertEquals(CompressionReport.KEPT_ORIGINAL, report.status(), "nothing finished, nothing is passed off");
        assertTrue(planning.explanation().contains("the time limit ran out before #0"), planning.explanation());
    }

    @Test
    void theCleanUpRunsOnceAndEveryChainThatBeginsWithItStartsFromItsResult() throws Exception {
        Path model = MnistModels.copy(temp.resolve("in"));
        List<String> stages = java.util.Collections.synchronizedList(new ArrayList<>());
        CompressionReport report = new Planner(engine).compress(new PlanRequest(model, TestProfiles.cpu(),
                Budget.of(TestProfiles.cpu()), temp.resolve("out"), Optional.of(data()), Optional.empty()),
                (stage, fraction, message) -> stages.add(stage));

        Planning planning = report.planning().orElseThrow();
        long chainsWithCleanUp = planning.trials().stream().filter(Trial::measured)
                .filter(trial -> trial.chain().get(0).pluginId().equals("graph-cleanup")).count();
        assertTrue(chainsWithCleanUp > 2, planning.trials().toString());
        assertEquals(1, stages.stream().filter(stage -> stage.endsWith(" graph-cleanup")).distinct().count(),
                "the clean-up step ran for one candidate only: " + stages);
        // the chosen chain's report still lists the clean-up it started from
        assertEquals("graph-cleanup", report.steps().get(0).plugin());
        assertEquals("done", report.steps().get(0).status());
    }

    @Test
    void packagingRunsForTheChosenCandidateOnlyAndItsFiguresAreKept() throws Exception {
        Path model = MnistModels.copy(temp.resolve("in"));
        // 200 kB: of the candidates only Deep Compression (about 0.12 MB) fits.
        Budget small = Budget.of(TestProfiles.cpu()).withMaxBytes(200_000);
        List<String> stages = java.util.Collections.synchronizedList(new ArrayList<>());
        CompressionReport report = new Planner(engine).compress(new PlanRequest(model, TestProfiles.cpu(), small,
                temp.resolve("out"), Optional.of(data()), Optional.empty()), (stage, fraction, message) -> stages.add(stage));

        Trial chosen = report.planning().orElseThrow().chosen().orElseThrow();
        assertEquals("package", chosen.chain().get(chosen.chain().size() - 1).pluginId(), chosen.chainText());
        assertTrue(chosen.packagedBytes().isPresent() && report.compressed().packagedBytes().isPresent());
        assertEquals(chosen.packagedBytes(), report.compressed().packagedBytes());
        assertEquals("done", report.steps().get(report.steps().size() - 1).status());
        assertEquals(chosen.fidelity(), report.fidelity().outputs(), "the figures it was chosen on");
        List<String> packaging = stages.stream().filter(stage -> stage.endsWith(" package")).distinct().toList();
        assertEquals(1, packaging.size(), packaging.toString());
        assertTrue(packaging.get(0).startsWith("plan: package the choice"), packaging.toString());
    }

    private CompressionReport plan(Planner planner, Path model, Budget budget, String name) {
        return planner.compress(new PlanRequest(model, TestProfiles.cpu(), budget, temp.resolve(name),
                Optional.of(data()), Optional.empty()), ProgressListener.NONE);
    }

    /** Every candidate's outcome, size, drop, fidelity and verdict; timings aside. */
    private static void assertSameFigures(Planning a, Planning b) {
        assertEquals(a.trials().size(), b.trials().size());
        for (int i = 0; i < a.trials().size(); i++) {
            Trial x = a.trials().get(i);
            Trial y = b.trials().get(i);
            assertEquals(x.chain(), y.chain());
            assertEquals(x.outcome(), y.outcome(), x.chainText());
            assertEquals(x.bytes(), y.bytes(), x.chainText());
            assertEquals(x.drop(), y.drop(), x.chainText());
            assertEquals(x.fidelity(), y.fidelity(), x.chainText());
            assertEquals(x.violations(), y.violations(), x.chainText());
            assertEquals(x.verdict(), y.verdict(), x.chainText());
        }
    }
}

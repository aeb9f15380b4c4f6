package io.modelpress.engine.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import io.modelpress.engine.ChainStep;
import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.CompressionReport;
import io.modelpress.engine.CompressionRequest;
import io.modelpress.engine.ProgressListener;
import io.modelpress.engine.TestProfiles;
import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.model.LoadLimits;
import io.modelpress.model.SaveOptions;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.TestModels;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The planner's retraining chains with the distillation plugin installed (fine-tune): offered when data is given
 * and the model is trainable, run and judged like every candidate, cut by the planner's time limit, and not
 * offered, with the reason, for a model fine-tune cannot train. The plugin is installed here only, in a class
 * loader of its own over this module's class path (the pom keeps it off that class path), so that the other
 * planner tests keep their candidates.
 */
class RetrainingPlanTest {

    private static final String FINE_TUNE = "fine-tune";

    @TempDir
    Path temp;

    private final CompressionEngine engine = new CompressionEngine(withDistillation(), LoadLimits.DEFAULT);

    /** The catalogue's chains that fine-tune, in its order. */
    private static final List<Candidates.Template> RETRAINING = Candidates.CATALOGUE.stream()
            .filter(template -> template.steps().stream().anyMatch(step -> step.startsWith(FINE_TUNE + ":")))
            .toList();

    @Test
    void onlyThisTestInstallsFineTune() {
        assertTrue(PluginRegistry.discover(getClass().getClassLoader()).find(FINE_TUNE).isEmpty(),
                "the module's class path has no fine-tune, so the other planner tests keep their candidates");
        assertTrue(engine.plugins().find(FINE_TUNE).isPresent());
    }

    @Test
    void theRetrainingCandidatesAreOfferedRunAndJudgedOnTheHeldOutDigits() throws IOException {
        assertTrue(RETRAINING.size() >= 2, "Deep Compression with retraining and gradual pruning: " + RETRAINING);
        Path model = MnistModels.copy(temp.resolve("in"));
        CompressionReport report = new Planner(engine, RETRAINING).compress(request(model, Budget.of(
                TestProfiles.cpu())), ProgressListener.NONE);

        Planning planning = report.planning().orElseThrow();
        assertEquals(RETRAINING.size(), planning.trials().size(), planning.trials().toString());
        for (Trial trial : planning.trials()) {
            String line = trial.chainText() + ": " + trial;
            assertEquals(Trial.MEASURED, trial.outcome(), line);
            assertTrue(trial.chain().stream().anyMatch(step -> step.pluginId().equals(FINE_TUNE)), line);
            assertTrue(trial.verdict().isPresent(), "every trial line says why it won or lost: " + line);
            assertFalse(trial.fidelity().isEmpty(), "judged against the original in ONNX Runtime: " + line);
            assertTrue(trial.drop().isPresent() || !trial.violations().isEmpty(), line);
        }
        assertTrue(planning.explanation().startsWith("chose ") || planning.explanation().startsWith("no candidate"),
                planning.explanation());
    }

    /** Every fine-tune step of a chain the engine runs distils from the model the request gave, not its input. */
    @Test
    void everyFineTuneStepOfTheDeepCompressionChainLearnsFromTheOriginal() throws IOException {
        Path model = MnistModels.copy(temp.resolve("in"));
        Candidates.Template deepCompression = RETRAINING.stream()
                .filter(template -> template.rationale().startsWith("Deep Compression with retraining")).findFirst()
                .orElseThrow();
        List<ChainStep> chain = Planner.searched(deepCompression.steps().stream().map(ChainStep::parse).toList());
        CompressionReport report = engine.compress(new CompressionRequest(model, TestProfiles.cpu(), chain,
                temp.resolve("out"), Optional.of(tuning()), Optional.of(judging()), Optional.empty()),
                ProgressListener.NONE);

        List<CompressionReport.StepReport> fineTunes = report.steps().stream()
                .filter(step -> step.plugin().equals(FINE_TUNE)).toList();
        assertEquals(2, fineTunes.size(), report.steps().toString());
        for (CompressionReport.StepReport step : fineTunes) {
            assertEquals("done", step.status(), step.toString());
            assertEquals(1.0, step.figures().get("targets-from-original"), step.changes().toString());
            assertTrue(step.figures().get("holdout-accuracy-original") >= step.figures().get("holdout-accuracy-before"),
                    "the pruned input does no better than the original: " + step.figures());
        }
    }

    @Test
    void thePlannersTimeLimitLeavesTheRetrainingCandidatesUntriedAndNamesThem() throws IOException {
        Path model = MnistModels.copy(temp.resolve("in"));
        Budget noTime = Budget.of(TestProfiles.cpu()).withTimeLimit(Duration.ofNanos(1));
        CompressionReport report = new Planner(engine, RETRAINING).compress(request(model, noTime),
                ProgressListener.NONE);

        Planning planning = report.planning().orElseThrow();
        assertEquals(RETRAINING.size(), planning.trials().size());
        for (Trial trial : planning.trials()) {
            assertEquals(Trial.NOT_TRIED, trial.outcome(), trial.toString());
            assertEquals(Optional.of(Planner.TIME_RAN_OUT), trial.error());
        }
        assertTrue(planning.explanation().contains("the time limit ran out before #0, #1"), planning.explanation());
        assertEquals(CompressionReport.KEPT_ORIGINAL, report.status());
        // A candidate that started runs each training step under its own time limit, which bounds the overrun.
        RETRAINING.forEach(template -> template.steps().stream().filter(step -> step.startsWith(FINE_TUNE))
                .forEach(step -> assertTrue(ChainStep.parse(step).options().containsKey("time-limit"), step)));
    }

    @Test
    void aModelFineTuneCannotTrainGetsNoRetrainingCandidateAndTheReasonIsNamed() throws IOException {
        GraphProto.Builder graph = TestModels.mlp(8, 16, 3, 1).proto().getGraph().toBuilder();
        graph.getNodeBuilderList().stream().filter(node -> node.getOpType().equals("Relu")).findFirst()
                .orElseThrow().setOpType("Selu");
        Path model = temp.resolve("in/selu.onnx");
        TestModels.model(graph.build()).save(model, SaveOptions.inline());
        List<Candidates.Template> catalogue = new ArrayList<>(List.of(Candidates.CATALOGUE.get(0)));
        catalogue.addAll(RETRAINING);
        CalibrationData data = randomRows("x", 8, 4, 50);
        CompressionReport report = new Planner(engine, catalogue).compress(new PlanRequest(model, TestProfiles.cpu(),
                Budget.of(TestProfiles.cpu()), temp.resolve("out"), Optional.of(data), Optional.empty()),
                ProgressListener.NONE);

        List<Trial> retraining = report.planning().orElseThrow().trials().stream()
                .filter(trial -> trial.chain().stream().anyMatch(step -> step.pluginId().equals(FINE_TUNE))).toList();
        assertEquals(RETRAINING.size(), retraining.size());
        for (Trial trial : retraining) {
            assertEquals(Trial.NOT_TRIED, trial.outcome());
            String reason = trial.error().orElse("");
            assertTrue(reason.startsWith("plugin 'fine-tune' cannot work on this model: ") && reason.contains("Selu"),
                    reason);
        }
    }

    private static PlanRequest request(Path model, Budget budget) {
        return new PlanRequest(model, TestProfiles.cpu(), budget, model.resolveSibling("out"), Optional.of(tuning()),
                Optional.of(judging()));
    }

    /** Labelled digits the model trained on: what the fine-tune steps train on. */
    private static CalibrationData tuning() {
        return MnistModels.calibration("pixels", 0, 1000, 100);
    }

    /** Held-out labelled digits: what judges every candidate. */
    private static CalibrationData judging() {
        return MnistModels.calibration("pixels", MnistModels.TRAIN, MnistModels.TRAIN + 1000, 250);
    }

    private static CalibrationData randomRows(String input, int width, int samples, int rows) {
        SplittableRandom random = new SplittableRandom(5);
        List<Map<String, TensorData>> all = new ArrayList<>();
        for (int s = 0; s < samples; s++) {
            float[] values = new float[rows * width];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) random.nextGaussian();
            }
            all.add(Map.of(input, TensorData.ofFloats(new long[] {rows, width}, values)));
        }
        return CalibrationData.of(all);
    }

    /**
     * The plugins of this module's class path and the distillation plugin, which the pom keeps off it and names in
     * a system property.
     */
    private static PluginRegistry withDistillation() {
        String location = System.getProperty("modelpress.test.distillation-plugin");
        if (location == null || !Files.exists(Path.of(location))) {
            throw new IllegalStateException("system property modelpress.test.distillation-plugin names no distillation"
                    + " plugin (" + location + "): run this test through Maven, which sets it");
        }
        try {
            URLClassLoader loader = new URLClassLoader(new URL[] {Path.of(location).toUri().toURL()},
                    RetrainingPlanTest.class.getClassLoader());
            return PluginRegistry.discover(loader);
        } catch (MalformedURLException e) {
            throw new IllegalStateException(e);
        }
    }
}

package io.modelpress.engine.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.ChainStep;
import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.CompressionReport;
import io.modelpress.engine.Judging;
import io.modelpress.engine.ProgressListener;
import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.engine.profile.HardwareProfiles;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.inference.RunnerOptions;
import io.modelpress.model.LoadLimits;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.RealModels;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PP-OCRv4 recognizer (CTC scores over 6625 classes per position), where a mean top-1 agreement
 * once passed off a model that read no line alike: judged without data it is never published below
 * the floors; judged on rendered text lines, the choice reads the lines it never tuned on as the
 * original does.
 */
class OcrJudgingTest {

    private static final String INPUT = "x";
    /** Lines 2 per sample, 30 samples: a third (10 samples, 20 lines) judges, the rest tunes. */
    private static final int SAMPLES = 30;
    private static final int LINES_PER_SAMPLE = 2;

    @TempDir
    Path temp;

    private final CompressionEngine engine = new CompressionEngine(PluginRegistry.discover(getClass().getClassLoader()),
            LoadLimits.DEFAULT);
    private final HardwareProfile edge = HardwareProfiles.builtIn().require("arm64-edge");

    @Test
    void withoutDataTheDamagingChainLosesOnTheFloorsAndNothingIsCalledComplete() {
        Path model = RealModels.OCR_RECOGNIZER.copyTo(temp.resolve("in"));
        CompressionReport report = planner().compress(new PlanRequest(model, edge, budget(), temp.resolve("out"),
                Optional.empty(), Optional.empty()), ProgressListener.NONE);

        Planning planning = report.planning().orElseThrow();
        record(report);
        assertEquals(Judging.GENERATED, report.judging().judgedOn());
        assertFalse(report.judging().verified());
        assertNotEquals(CompressionReport.COMPLETE, report.status(), "generated inputs alone never earn complete");
        Trial deep = trial(planning, "magnitude-pruning");
        assertTrue(deep.measured(), deep.toString());
        assertTrue(deep.violations().stream().anyMatch(v -> v.contains("cosine") && v.contains("under the floor")),
                deep.violations().toString());
        assertFalse(planning.chosen().map(chosen -> chosen.index() == deep.index()).orElse(false), planning.explanation());
        assertEquals(Floors.GENERATED, planning.budget().floors(), "strict floors on generated inputs");
        // Whatever is written meets the strict floors on every output, or is the original itself.
        if (report.status().equals(CompressionReport.KEPT_ORIGINAL)) {
            assertTrue(report.hint().orElseThrow().contains("give real inputs"), report.hint().toString());
            assertEquals(report.original().parameters(), report.compressed().parameters());
        } else {
            assertEquals(CompressionReport.UNVERIFIED, report.status());
            for (OutputFidelity output : planning.chosen().orElseThrow().fidelity()) {
                assertTrue(output.meanCosine() >= Floors.GENERATED.meanCosine()
                        && output.minCosine() >= Floors.GENERATED.worstCosine(), output.toString());
            }
        }
    }

    @Test
    void withRenderedLinesTheChoiceReadsHeldOutLinesAsTheOriginalDoes() {
        Path model = RealModels.OCR_RECOGNIZER.copyTo(temp.resolve("in"));
        CalibrationData lines = TextLines.render(INPUT, SAMPLES, LINES_PER_SAMPLE, 7);
        Budget budget = budget().withMaxAccuracyDrop(5); // 1 line in 20 may read differently
        CompressionReport report = planner().compress(new PlanRequest(model, edge, budget, temp.resolve("out"),
                Optional.of(lines), Optional.empty()), ProgressListener.NONE);

        Planning planning = report.planning().orElseThrow();
        record(report);
        assertEquals(CompressionReport.COMPLETE, report.status(), planning.explanation());
        assertEquals(Judging.REAL, report.judging().judgedOn());
        assertEquals(10, report.judging().judgingSamples());
        assertEquals(20, report.judging().tuningSamples());
        Trial deep = trial(planning, "magnitude-pruning");
        assertFalse(deep.meetsBudget(), "pruning and 4-bit sharing must not pass on real lines: " + deep);
        OutputFidelity scores = planning.chosen().orElseThrow().fidelity().get(0);
        assertTrue(scores.sequenceAgreement().orElseThrow() >= 0.95, scores.toString());

        // Independently of the planner's figures: the published model reads the held-out lines as the original.
        CalibrationData judging = Judging.of(Optional.of(lines), Optional.empty()).judge().orElseThrow();
        double agreement = lineAgreement(model, temp.resolve("out/model.onnx"), judging);
        assertTrue(agreement >= 0.95, "exact-line agreement on held-out lines " + agreement);
    }

    /** The figures each candidate was judged on, in the test's output for whoever reads it. */
    private static void record(CompressionReport report) {
        System.out.println(report.status() + " on " + report.judging().judgedOn() + ": " + report.planning().orElseThrow()
                .explanation());
        for (Trial trial : report.planning().orElseThrow().trials()) {
            System.out.println("  " + trial.chainText() + ": " + trial.bytes() + " bytes, drop " + trial.drop() + ", "
                    + trial.fidelity() + "; " + trial.verdict().orElse(""));
        }
    }

    /**
     * The profile's budget without its memory bound: the memory is measured by timing every candidate,
     * which for this recognizer only slows a test that is about judging (PlannerTest checks memory).
     */
    private Budget budget() {
        Budget profile = Budget.of(edge);
        return new Budget(profile.maxAccuracyDrop(), profile.maxBytes(), profile.maxLatencyMillis(),
                java.util.OptionalLong.empty(), profile.floors(), profile.timeLimit());
    }

    private Planner planner() {
        return new Planner(engine, Candidates.CATALOGUE.stream().filter(template -> List.of("graph-cleanup",
                "int8-dynamic", "fp16", "magnitude-pruning:sparsity=0.6").contains(template.steps().get(0))).toList());
    }

    private static Trial trial(Planning planning, String firstPlugin) {
        return planning.trials().stream().filter(t -> t.chain().stream().anyMatch(s -> s.pluginId().equals(firstPlugin)))
                .findFirst().orElseThrow(() -> new AssertionError("no trial with " + firstPlugin));
    }

    /** Share of lines whose greedy CTC decoding is the same in both models; the original must read something. */
    private static double lineAgreement(Path original, Path compressed, CalibrationData data) {
        int same = 0;
        int total = 0;
        int read = 0;
        try (OrtRunner before = OrtRunner.open(original, RunnerOptions.DEFAULT);
                OrtRunner after = OrtRunner.open(compressed, RunnerOptions.DEFAULT)) {
            for (int s = 0; s < data.size(); s++) {
                List<int[]> expected = decode(before.run(data.sample(s)));
                List<int[]> actual = decode(after.run(data.sample(s)));
                for (int line = 0; line < expected.size(); line++) {
                    total++;
                    same += Arrays.equals(expected.get(line), actual.get(line)) ? 1 : 0;
                    read += expected.get(line).length >= 3 ? 1 : 0;
                }
            }
        }
        assertTrue(read >= total * 0.9, "the original reads the rendered lines: " + read + " of " + total);
        return (double) same / total;
    }

    private static List<int[]> decode(Map<String, TensorData> outputs) {
        TensorData scores = outputs.values().iterator().next();
        long[] shape = scores.shape();
        int positions = (int) shape[1];
        int classes = (int) shape[2];
        ByteBuffer values = scores.data();
        List<int[]> lines = new ArrayList<>();
        for (int b = 0; b < shape[0]; b++) {
            int[] out = new int[positions];
            int length = 0;
            int previous = -1;
            for (int t = 0; t < positions; t++) {
                int base = (b * positions + t) * classes;
                int best = 0;
                for (int c = 1; c < classes; c++) {
                    if (values.getFloat((base + c) * 4) > values.getFloat((base + best) * 4)) {
                        best = c;
                    }
                }
                if (best != previous && best != 0) {
                    out[length++] = best;
                }
                previous = best;
            }
            lines.add(Arrays.copyOf(out, length));
        }
        return lines;
    }
}

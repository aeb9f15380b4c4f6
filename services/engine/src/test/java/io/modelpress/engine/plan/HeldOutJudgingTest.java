package io.modelpress.engine.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.ChainStep;
import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.CompressionReport;
import io.modelpress.engine.CompressionRequest;
import io.modelpress.engine.Evaluator;
import io.modelpress.engine.Judging;
import io.modelpress.engine.ProgressListener;
import io.modelpress.engine.TestProfiles;
import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.model.LoadLimits;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.MnistModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No example judges a chain that tuned on it. The data here is built so that the part the split
 * gives to tuning is unlike the part it keeps to judge (dim digits against normal ones): a
 * calibrated int8 chain fits the dim digits, looks faithful on them, and loses on the held-out ones.
 */
class HeldOutJudgingTest {

    private static final String INPUT = "pixels";

    @TempDir
    Path temp;

    private final CompressionEngine engine = new CompressionEngine(PluginRegistry.discover(getClass().getClassLoader()),
            LoadLimits.DEFAULT);

    @Test
    void theSplitIsSeededDisjointAndNamedInTheReport() {
        CalibrationData data = MnistModels.calibration(INPUT, 8000, 8600, 50);
        Judging first = Judging.of(Optional.of(data), Optional.empty());
        Judging second = Judging.of(Optional.of(data), Optional.empty());
        assertEquals(4, first.judgingSamples(), "a third of 12, rounded up");
        assertEquals(8, first.tuningSamples());
        Set<TensorData> judged = pixels(first.judge().orElseThrow());
        Set<TensorData> tuned = pixels(first.tuning().orElseThrow());
        assertTrue(Collections.disjoint(judged, tuned), "no sample both tunes and judges");
        assertEquals(judged, pixels(second.judge().orElseThrow()), "the same data splits the same way");
        assertTrue(first.rule().contains("seed " + Judging.SEED) && first.rule().contains("4 of 12 judge"), first.rule());
    }

    @Test
    void aChainThatOverfitsItsTuningDataLosesOnTheHeldOutPart() {
        Path model = MnistModels.copy(temp.resolve("in"));
        CalibrationData data = dimWhereTheSplitTunes(MnistModels.calibration(INPUT, 8000, 8600, 50));
        Judging split = Judging.of(Optional.of(data), Optional.empty());

        CompressionReport report = engine.compress(new CompressionRequest(model, TestProfiles.cpu(),
                List.of(ChainStep.parse("int8-static")), temp.resolve("static"), Optional.of(data), Optional.empty(),
                Optional.empty()), ProgressListener.NONE);
        OutputFidelity heldOut = report.fidelity().outputs().get(0);
        OutputFidelity inSample = Evaluator.fidelity(model, temp.resolve("static/model.onnx"),
                new Evaluator.Data(split.tuning(), Optional.empty(), Optional.empty(), 1)).outputs().get(0);
        assertEquals("real data: 4 samples", report.fidelity().data());
        assertTrue(inSample.meanCosine() >= Floors.DEFAULT.meanCosine(), "on its own tuning data it looks faithful: "
                + inSample);
        assertTrue(heldOut.meanCosine() < Floors.DEFAULT.meanCosine(), "on the held-out digits it is not: " + heldOut);

        Planner planner = new Planner(engine, Candidates.CATALOGUE.stream().filter(template -> List.of("graph-cleanup",
                "int8-static", "int8-dynamic").contains(template.steps().get(0))).toList());
        Planning planning = planner.compress(new PlanRequest(model, TestProfiles.cpu(), Budget.of(TestProfiles.cpu()),
                temp.resolve("planned"), Optional.of(data), Optional.empty()), ProgressListener.NONE).planning().orElseThrow();
        Trial calibrated = planning.trials().stream().filter(t -> t.chainText().endsWith("int8-static")).findFirst()
                .orElseThrow();
        assertFalse(calibrated.meetsBudget(), calibrated.toString());
        assertTrue(calibrated.verdict().orElseThrow().startsWith("misses: "), calibrated.verdict().toString());
        assertEquals(List.of("graph-cleanup", "int8-dynamic"),
                planning.chosen().orElseThrow().chain().stream().map(ChainStep::pluginId).toList(), planning.explanation());
    }

    /** The same digits, those the split gives to tuning dimmed to 2% of their brightness. */
    private static CalibrationData dimWhereTheSplitTunes(CalibrationData data) {
        Set<TensorData> judged = pixels(Judging.of(Optional.of(data), Optional.empty()).judge().orElseThrow());
        List<Map<String, TensorData>> samples = new ArrayList<>();
        for (int i = 0; i < data.size(); i++) {
            TensorData pixels = data.sample(i).get(INPUT);
            samples.add(Map.of(INPUT, judged.contains(pixels) ? pixels : dim(pixels, 0.02f)));
        }
        return CalibrationData.of(samples);
    }

    private static TensorData dim(TensorData pixels, float factor) {
        float[] values = new float[Math.toIntExact(pixels.elementCount())];
        for (int i = 0; i < values.length; i++) {
            values[i] = pixels.data().getFloat(i * 4) * factor;
        }
        return TensorData.ofFloats(pixels.shape(), values);
    }

    private static Set<TensorData> pixels(CalibrationData data) {
        Set<TensorData> out = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < data.size(); i++) {
            out.add(data.sample(i).get(INPUT));
        }
        return out;
    }
}

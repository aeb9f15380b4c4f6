package io.modelpress.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.model.ModelException;
import io.modelpress.model.SaveOptions;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Models timed side by side on raw ONNX Runtime sessions, and the rules of the rounds. */
class BenchmarkerTest {

    @TempDir
    Path temp;

    @Test
    void timesEachModelInTheSameRoundsAndMeasuresItsSessionInAChildProcess() {
        Path small = temp.resolve("small.onnx");
        Path large = temp.resolve("large.onnx");
        TestModels.mlp(64, 32, 8, 1).save(small, SaveOptions.inline());
        TestModels.mlp(64, 512, 8, 1).save(large, SaveOptions.inline());
        Map<String, Path> models = new LinkedHashMap<>();
        models.put("small", small);
        models.put("large", large);
        Map<String, TensorData> inputs = Map.of("x", TensorData.ofFloats(new long[] {4, 64}, new float[4 * 64]));
        BenchmarkSettings settings = BenchmarkSettings.of(1, 3, 20);

        List<ModelBenchmark> results = Benchmarker.compare(models, inputs, settings);

        assertEquals(List.of("small", "large"), results.stream().map(ModelBenchmark::label).toList());
        assertEquals(results.get(0).rounds(), results.get(1).rounds(), "one run of each model per round");
        for (ModelBenchmark result : results) {
            assertTrue(result.rounds() >= 20 && result.rounds() <= 200, result.toString());
            assertEquals(4, result.batchSize());
            assertTrue(result.loadMillis() > 0);
            assertTrue(result.p10Millis() > 0 && result.p10Millis() <= result.p50Millis()
                    && result.p50Millis() <= result.p90Millis() && result.p90Millis() <= result.p99Millis(),
                    result.toString());
            assertEquals(4 * 1000 / result.p50Millis(), result.throughputPerSecond(), 1e-9);
            assertTrue(result.sessionPeakBytes().orElseThrow() > 0, "measured in a child process: " + result);
        }
        long smallPeak = results.get(0).sessionPeakBytes().orElseThrow();
        long largePeak = results.get(1).sessionPeakBytes().orElseThrow();
        assertTrue(largePeak > smallPeak, "the wider model's session holds more: " + smallPeak + " vs " + largePeak);
    }

    @Test
    void memoryIsLeftOutWhenNotAskedFor() {
        Path small = temp.resolve("small.onnx");
        TestModels.mlp(8, 4, 2, 1).save(small, SaveOptions.inline());
        ModelBenchmark result = Benchmarker.compare(Map.of("small", small),
                Map.of("x", TensorData.ofFloats(new long[] {1, 8}, new float[8])),
                BenchmarkSettings.of(0, 1, 5).withoutMemory()).get(0);
        assertTrue(result.sessionPeakBytes().isEmpty());
        assertTrue(result.rounds() >= 5);
    }

    @Test
    void aModelThatDoesNotLoadIsNamed() throws IOException {
        Path broken = Files.write(temp.resolve("broken.onnx"), new byte[] {1, 2, 3, 4});
        ModelException e = assertThrows(ModelException.class, () -> Benchmarker.compare(Map.of("broken", broken),
                Map.of("x", TensorData.ofFloats(new long[] {1, 1}, new float[1])),
                BenchmarkSettings.DEFAULT.withoutMemory()));
        assertTrue(e.getMessage().contains("cannot load broken.onnx"), e.getMessage());
    }

    @Test
    void aMissingInputIsNamed() {
        Path small = temp.resolve("small.onnx");
        TestModels.mlp(8, 4, 2, 1).save(small, SaveOptions.inline());
        ModelException e = assertThrows(ModelException.class, () -> Benchmarker.compare(Map.of("small", small),
                Map.of("y", TensorData.ofFloats(new long[] {1, 8}, new float[8])),
                BenchmarkSettings.DEFAULT.withoutMemory()));
        assertTrue(e.getMessage().contains("declares input 'x'"), e.getMessage());
    }

    @Test
    void timingsHereStandOnlyForTargetsOnTheCpuProvider() {
        assertTrue(Benchmarker.timesFor("cpu"));
        assertTrue(Benchmarker.timesFor("CPUExecutionProvider"), "ONNX Runtime's own name");
        assertFalse(Benchmarker.timesFor("cuda"));
        assertFalse(Benchmarker.timesFor("wasm"));
    }

    @Test
    void percentilesPickTheNearestRank() {
        double[] sorted = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        assertEquals(1, TimingRounds.percentile(sorted, 0.1));
        assertEquals(5, TimingRounds.percentile(sorted, 0.5));
        assertEquals(9, TimingRounds.percentile(sorted, 0.9));
        assertEquals(10, TimingRounds.percentile(sorted, 0.99));
        assertEquals(7, TimingRounds.percentile(new double[] {7}, 0.1), "one value is every percentile");
        assertEquals(0, TimingRounds.percentile(new double[0], 0.5));
        assertEquals(3, TimingRounds.median(List.of(5.0, 1.0, 3.0, 4.0, 2.0)), "sorted first");
    }

    @Test
    void theOrderRotatesSoEveryModelRunsInEverySlot() {
        int models = 3;
        for (int slot = 0; slot < models; slot++) {
            List<Integer> seen = new ArrayList<>();
            for (int round = 0; round < models; round++) {
                seen.add(TimingRounds.modelAt(round, slot, models));
            }
            assertEquals(List.of(0, 1, 2), seen.stream().sorted().toList(), "slot " + slot + " over three rounds");
        }
        for (int round = 0; round < 5; round++) {
            List<Integer> order = new ArrayList<>();
            for (int slot = 0; slot < models; slot++) {
                order.add(TimingRounds.modelAt(round, slot, models));
            }
            assertEquals(List.of(0, 1, 2), order.stream().sorted().toList(), "every model once in round " + round);
        }
        assertEquals(1, TimingRounds.modelAt(1, 0, models), "round 1 starts with the second model");
    }

    @Test
    void theMedianIsStableOnlyWhenTheLastHalfAgreesWithAll() {
        assertFalse(TimingRounds.stable(List.of(1.0, 1.0, 1.0), 0.02), "too few rounds for a verdict");
        assertTrue(TimingRounds.stable(List.of(1.0, 1.01, 0.99, 1.0, 1.0, 1.01), 0.02));
        // The machine got slower half way: the recent median is far from the overall one.
        assertFalse(TimingRounds.stable(List.of(1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0), 0.02));
        // A single outlier moves no median.
        assertTrue(TimingRounds.stable(List.of(1.0, 1.0, 1.0, 1.0, 1.0, 50.0), 0.02));
        // Within a wider tolerance the same drift is accepted.
        assertTrue(TimingRounds.stable(List.of(1.0, 1.0, 1.0, 1.0, 1.1, 1.1, 1.1, 1.0), 0.15));
    }

    @Test
    void settingsRefuseRulesThatCannotStop() {
        assertThrows(IllegalArgumentException.class, () -> new BenchmarkSettings(0, 1, 10, 5, 0.02, 10, false));
        assertThrows(IllegalArgumentException.class, () -> new BenchmarkSettings(0, 1, 10, 20, 0, 10, false));
        assertThrows(IllegalArgumentException.class, () -> new BenchmarkSettings(0, 1, 10, 20, 0.02, 0, false));
        BenchmarkSettings capped = BenchmarkSettings.of(0, 3, 15).capped(60, 30);
        assertEquals(60, capped.maxRounds());
        assertEquals(30, capped.maxSeconds());
    }
}

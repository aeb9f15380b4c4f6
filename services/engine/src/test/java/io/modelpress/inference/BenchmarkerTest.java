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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Models measured through DJL's ONNX Runtime engine, side by side. */
class BenchmarkerTest {

    @TempDir
    Path temp;

    @Test
    void measuresEachModelOnTheSameInputs() {
        Path small = temp.resolve("small.onnx");
        Path large = temp.resolve("large.onnx");
        TestModels.mlp(64, 32, 8, 1).save(small, SaveOptions.inline());
        TestModels.mlp(64, 512, 8, 1).save(large, SaveOptions.inline());
        Map<String, Path> models = new LinkedHashMap<>();
        models.put("small", small);
        models.put("large", large);
        Map<String, TensorData> inputs = Map.of("x", TensorData.ofFloats(new long[] {4, 64}, new float[4 * 64]));

        List<ModelBenchmark> results = Benchmarker.compare(models, inputs, new BenchmarkSettings(1, 3, 20));

        assertEquals(List.of("small", "large"), results.stream().map(ModelBenchmark::label).toList());
        for (ModelBenchmark result : results) {
            assertEquals(20, result.iterations());
            assertEquals(4, result.batchSize());
            assertTrue(result.loadMillis() > 0);
            assertTrue(result.p50Millis() > 0 && result.p50Millis() <= result.p90Millis()
                    && result.p90Millis() <= result.p99Millis(), result.toString());
            assertEquals(4 * 1000 / result.p50Millis(), result.throughputPerSecond(), 1e-9);
        }
    }

    @Test
    void aModelThatDoesNotLoadIsNamed() throws IOException {
        Path broken = Files.write(temp.resolve("broken.onnx"), new byte[] {1, 2, 3, 4});
        ModelException e = assertThrows(ModelException.class, () -> Benchmarker.compare(Map.of("broken", broken),
                Map.of("x", TensorData.ofFloats(new long[] {1, 1}, new float[1])), BenchmarkSettings.DEFAULT));
        assertTrue(e.getMessage().contains("cannot load broken.onnx"), e.getMessage());
    }

    @Test
    void timingsHereStandOnlyForTargetsOnTheCpuProvider() {
        assertTrue(Benchmarker.timesFor("cpu"));
        assertTrue(Benchmarker.timesFor("CPUExecutionProvider"), "ONNX Runtime's own name");
        assertFalse(Benchmarker.timesFor("cuda"));
        assertFalse(Benchmarker.timesFor("wasm"));
    }

    @Test
    void percentilesPickTheRankedValue() {
        double[] sorted = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        assertEquals(5, Benchmarker.percentile(sorted, 0.5));
        assertEquals(9, Benchmarker.percentile(sorted, 0.9));
        assertEquals(10, Benchmarker.percentile(sorted, 0.99));
    }
}

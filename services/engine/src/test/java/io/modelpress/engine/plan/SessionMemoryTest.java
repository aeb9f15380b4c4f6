package io.modelpress.engine.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.inference.SessionMemory;
import io.modelpress.model.ModelException;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.TestModels;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A session's peak memory, measured in a process of its own, follows what the model holds. */
class SessionMemoryTest {

    private static final long MCU_SRAM = 512 * 1024;

    @TempDir
    Path temp;

    @Test
    void aModelHoldingFourMebibytesOfWeightsIsMeasuredAboveThemAndFarAboveATinyOne() throws Exception {
        Path large = save(TestModels.mlp(1024, 1024, 10, 1), "large");
        Path tiny = save(TestModels.mlp(4, 4, 2, 1), "tiny");

        SessionMemory largeSession = SessionMemory.measure(large, 1, 1);
        SessionMemory tinySession = SessionMemory.measure(tiny, 1, 1);

        assertTrue(largeSession.peakBytes() >= Files.size(large), "a session holds its weights: " + largeSession
                + " for a file of " + Files.size(large) + " bytes");
        assertTrue(largeSession.peakBytes() > MCU_SRAM, "obviously more than a microcontroller's SRAM: " + largeSession);
        assertTrue(tinySession.peakBytes() < largeSession.peakBytes() / 4, tinySession + " against " + largeSession);
        assertTrue(tinySession.fixedBytes() > 0 && tinySession.fixedBytes() < largeSession.peakBytes(),
                "the runtime's fixed cost is measured and small: " + tinySession);
    }

    @Test
    void aJudgingSampleIsCutToTheProfilesBatchAndRunsInTheProbe() throws Exception {
        float[] rows = new float[4 * 1024];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = i;
        }
        TensorData rate = TensorData.ofLongs(new long[0], new long[] {16000});
        Map<String, TensorData> sample = MemoryCheck.atBatch(Map.of("x", TensorData.ofFloats(new long[] {4, 1024}, rows),
                "sr", rate), 1);
        assertArrayEquals(new long[] {1, 1024}, sample.get("x").shape());
        assertEquals(1023f, sample.get("x").data().order(ByteOrder.LITTLE_ENDIAN).getFloat(4 * 1023));
        assertEquals(4 * 1024, sample.get("x").data().remaining());
        assertEquals(rate, sample.get("sr"), "an input without the batch dim is kept");

        Path large = save(TestModels.mlp(1024, 1024, 10, 1), "large");
        java.util.List<Path> before;
        try (var files = Files.list(large.getParent())) {
            before = files.sorted().toList();
        }
        SessionMemory onData = SessionMemory.measure(large, 1, 1, Optional.of(Map.of("x", sample.get("x"))));
        assertTrue(onData.peakBytes() >= Files.size(large), onData.toString());
        try (var files = Files.list(large.getParent())) {
            assertEquals(before, files.sorted().toList(), "the sample's file, written beside the model, is removed");
        }
    }

    @Test
    void aFileThatIsNotAModelGetsOneLineSayingSo() throws Exception {
        Path file = temp.resolve("broken/model.onnx");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "not a model");
        ModelException error = assertThrows(ModelException.class, () -> SessionMemory.measure(file, 1, 1));
        assertTrue(error.getMessage().startsWith("cannot measure the session's memory: "), error.getMessage());
        assertEquals(1, error.getMessage().lines().count(), error.getMessage());
    }

    private Path save(io.modelpress.model.OnnxModel model, String name) throws Exception {
        Path file = temp.resolve(name).resolve("model.onnx");
        Files.createDirectories(file.getParent());
        model.save(file);
        return file;
    }
}

package io.modelpress.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.EngineException;
import io.modelpress.model.DataType;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.TensorData;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads files that numpy itself wrote (numpy.savez and savez_compressed), cut into batches. */
class NpzDataTest {

    @TempDir
    Path temp;

    @Test
    void readsWhatNumpyWritesInBatchesWithLabels() throws Exception {
        CalibrationData data = NpzData.read(resource("numpy-written.npz"), Map.of(), 2, 1 << 20);
        assertEquals(3, data.size(), "5 examples in batches of 2");
        assertEquals(List.of("x", "ids"), data.inputNames().stream().sorted(java.util.Comparator.reverseOrder()).toList());
        TensorData x = data.sample(1).get("x");
        assertArrayEquals(new long[] {2, 3}, x.shape());
        assertArrayEquals(new float[] {3f, 3.5f, 4f, 4.5f, 5f, 5.5f}, x.toFloats());
        TensorData ids = data.sample(2).get("ids");
        assertEquals(DataType.INT64, ids.type());
        assertArrayEquals(new long[] {1, 2}, ids.shape());
        assertEquals(8, ids.data().getLong(0));
        assertArrayEquals(new long[] {4, 1}, longs(data.labels(1).orElseThrow()));
        assertArrayEquals(new long[] {5}, longs(data.labels(2).orElseThrow()));
    }

    @Test
    void convertsFloat64ToFloat32() throws Exception {
        CalibrationData data = NpzData.read(resource("numpy-float64.npz"), Map.of(), 10, 1 << 20);
        assertEquals(1, data.size());
        assertArrayEquals(new float[] {0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f},
                data.sample(0).get("x").toFloats());
        assertTrue(data.labels(0).isEmpty());
    }

    @Test
    void refusesWhatItCannotUseWithAReason() throws IOException {
        Path text = Files.writeString(temp.resolve("data.npz"), "not a zip");
        assertTrue(assertThrows(EngineException.class, () -> NpzData.read(text, Map.of(), 1, 1 << 20)).getMessage()
                .contains("not an .npz file"));
        assertTrue(assertThrows(EngineException.class, () -> NpzData.read(temp.resolve("missing.npz"), Map.of(), 1, 1 << 20))
                .getMessage().startsWith("data file not found"));
    }

    @Test
    void refusesDataLargerThanTheLimit() {
        EngineException e = assertThrows(EngineException.class, () -> NpzData.read(resource("numpy-written.npz"), Map.of(), 1, 64));
        assertTrue(e.getMessage().contains("more than 64 bytes"), e.getMessage());
    }

    private static long[] longs(TensorData tensor) {
        long[] values = new long[(int) tensor.elementCount()];
        tensor.data().asLongBuffer().get(values);
        return values;
    }

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(NpzDataTest.class.getResource("/data/" + name).toURI());
    }
}

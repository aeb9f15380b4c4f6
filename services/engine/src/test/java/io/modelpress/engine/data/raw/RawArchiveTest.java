package io.modelpress.engine.data.raw;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.EngineException;
import io.modelpress.engine.data.NpzData;
import io.modelpress.engine.data.NpzWriter;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.testkit.RealModels;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One zip of raw files and their settings, as a service receives data behind a URI. */
class RawArchiveTest {

    @TempDir
    Path temp;

    private Path zip(Map<String, byte[]> entries) throws IOException {
        Path file = temp.resolve("data.zip");
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> entry : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(entry.getKey()));
                zip.write(entry.getValue());
                zip.closeEntry();
            }
        }
        return file;
    }

    private static byte[] text(String value) {
        return value.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void wavFilesInAnArchiveBecomeTheVoiceDetectorsLabelledData() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put(RawArchive.SETTINGS, text("kind=audio\nsource=clips\nlabels=folders\nwindow=512\ninput=input\n"));
        entries.put("clips/speech/a.wav", RawAudioTest.wav(300, 0.5, 16_000, 1, false));
        entries.put("clips/silence/b.wav", RawAudioTest.wav(50, 0.25, 16_000, 1, false));
        Path archive = zip(entries);
        OnnxModel model = OnnxModel.load(RealModels.SILERO_VAD_V5.copyTo(temp.resolve("model")));
        Path out = temp.resolve("work").resolve("calibration.npz");

        assertTrue(RawArchive.isRawArchive(archive));
        RawDataResult result = RawArchive.toNpz(archive, model, out, 1 << 24);

        assertEquals(16 + 8, result.examples(), "8000 and 4000 samples in windows of 512: " + result.notes());
        assertEquals(List.of("silence", "speech"), result.classes());
        CalibrationData data = NpzData.read(out, NpzData.inputRanks(model), 1, 1 << 24);
        assertEquals(24, data.size());
        assertArrayEquals(new long[] {1, 512}, data.sample(0).get("input").shape());
        assertFalse(Files.exists(temp.resolve("work").resolve("calibration.npz.raw")), "what was unpacked is removed");
    }

    @Test
    void anNpzIsNoRawArchive() throws IOException {
        Path npz = temp.resolve("plain.npz");
        try (NpzWriter writer = new NpzWriter(npz)) {
            writer.floats("x", new long[] {1, 2}, new float[] {1, 2});
        }
        assertFalse(RawArchive.isRawArchive(npz));
        assertFalse(RawArchive.isRawArchive(temp.resolve("missing.zip")));
    }

    @Test
    void badSettingsAndEscapingEntriesAreRefusedByName() throws IOException {
        OnnxModel model = OnnxModel.load(RealModels.SILERO_VAD_V5.copyTo(temp.resolve("model")));
        Path out = temp.resolve("out.npz");

        Path typo = zip(Map.of(RawArchive.SETTINGS, text("kind=audio\nwindw=512\n")));
        EngineException unknown = assertThrows(EngineException.class, () -> RawArchive.toNpz(typo, model, out, 1 << 20));
        assertTrue(unknown.getMessage().contains("unknown key [windw]") && unknown.getMessage().contains("window"),
                unknown.getMessage());

        Path escaping = zip(Map.of(RawArchive.SETTINGS, text("kind=audio\n"), "../../evil.wav", new byte[4]));
        EngineException outside = assertThrows(EngineException.class, () -> RawArchive.toNpz(escaping, model, out, 1 << 20));
        assertTrue(outside.getMessage().contains("points outside the archive"), outside.getMessage());
        assertFalse(Files.exists(temp.getParent().resolve("evil.wav")));

        Path big = zip(Map.of(RawArchive.SETTINGS, text("kind=audio\n"), "a.wav", new byte[4096]));
        EngineException tooBig = assertThrows(EngineException.class, () -> RawArchive.toNpz(big, model, out, 1024));
        assertTrue(tooBig.getMessage().contains("unpacks to more than 1024 bytes"), tooBig.getMessage());
    }
}

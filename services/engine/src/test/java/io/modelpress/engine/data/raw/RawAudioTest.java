package io.modelpress.engine.data.raw;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.EngineException;
import io.modelpress.engine.data.NpzData;
import io.modelpress.inference.OrtRunner;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.RealModels;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** WAV files become windows of mono audio at the model's rate. */
class RawAudioTest {

    @TempDir
    Path temp;

    /** A WAV file of a sine tone: PCM 16-bit or float 32-bit, any rate and channel count. */
    static byte[] wav(double hertz, double seconds, int rate, int channels, boolean floating) {
        int frames = (int) (seconds * rate);
        int width = floating ? 4 : 2;
        ByteBuffer data = ByteBuffer.allocate(frames * channels * width).order(ByteOrder.LITTLE_ENDIAN);
        for (int f = 0; f < frames; f++) {
            double value = 0.5 * Math.sin(2 * Math.PI * hertz * f / rate);
            for (int c = 0; c < channels; c++) {
                if (floating) {
                    data.putFloat((float) value);
                } else {
                    data.putShort((short) Math.round(value * 32767));
                }
            }
        }
        ByteBuffer file = ByteBuffer.allocate(44 + data.capacity()).order(ByteOrder.LITTLE_ENDIAN);
        file.put("RIFF".getBytes()).putInt(36 + data.capacity()).put("WAVE".getBytes());
        file.put("fmt ".getBytes()).putInt(16).putShort((short) (floating ? 3 : 1)).putShort((short) channels)
                .putInt(rate).putInt(rate * channels * width).putShort((short) (channels * width)).putShort((short) (width * 8));
        file.put("data".getBytes()).putInt(data.capacity()).put(data.array());
        return file.array();
    }

    @Test
    void stereoAt44kBecomesMonoAt16kWithTheToneKept() {
        WavFile wav = WavFile.parse(Path.of("tone.wav"), wav(440, 0.5, 44_100, 2, false));
        assertEquals(44_100, wav.sampleRate());
        assertEquals(22_050, wav.samples().length);

        float[] resampled = WavFile.resample(wav.samples(), 44_100, 16_000);

        assertEquals(8_000, resampled.length);
        for (int i = 200; i < 7_800; i++) { // away from the edges, where the filter sees silence
            double expected = 0.5 * Math.sin(2 * Math.PI * 440 * i / 16_000.0);
            assertEquals(expected, resampled[i], 0.01, "sample " + i);
        }
    }

    @Test
    void aToneAboveTheNewNyquistFrequencyDoesNotFoldBack() {
        float[] high = WavFile.parse(Path.of("high.wav"), wav(7_000, 0.5, 16_000, 1, true)).samples();

        float[] down = WavFile.resample(high, 16_000, 8_000); // 7 kHz is above 4 kHz

        double energy = 0;
        for (int i = 200; i < down.length - 200; i++) {
            energy += down[i] * down[i];
        }
        double rms = Math.sqrt(energy / (down.length - 400));
        assertTrue(rms < 0.02, "a 7 kHz tone at 8 kHz sampling must be filtered out, not alias to 1 kHz: rms " + rms);
    }

    @Test
    void windowsCoverTheFileAndATailUnderHalfAWindowIsDropped() {
        assertEquals(3, RawData.cut(new float[1100], 400, 400).size(), "0, 400, and 800 padded");
        assertEquals(2, RawData.cut(new float[900], 400, 400).size(), "a tail of 100 is dropped");
        assertEquals(1, RawData.cut(new float[10], 400, 400).size(), "a short file is one padded window");
        assertEquals(4, RawData.cut(new float[1000], 400, 200).size(), "overlapping: 0, 200, 400, 600");
    }

    @Test
    void aVoiceDetectorGetsWindowsAStateAndItsSampleRateAndRunsOnThem() throws IOException {
        Path folder = Files.createDirectories(temp.resolve("speech").resolve("tone"));
        Files.write(folder.resolve("a.wav"), wav(300, 1.0, 8_000, 1, false));
        Files.write(folder.resolve("b.wav"), wav(600, 0.5, 22_050, 2, true));
        Path model = RealModels.SILERO_VAD_V5.copyTo(temp.resolve("model"));
        OnnxModel loaded = OnnxModel.load(model);
        Path out = temp.resolve("speech.npz");

        RawDataResult result = RawData.audio(loaded, new RawData.Request(temp.resolve("speech"), LabelSource.folders(),
                Optional.of("input"), 0, out), new AudioOptions(16_000, OptionalInt.of(512), OptionalInt.empty()));

        assertEquals(31 + 16, result.examples(), "16000/512 = 31.25 and 8000/512 = 15.6 windows: "
                + result.notes());
        assertArrayEquals(new long[] {47, 512}, result.arrays().get("input"));
        assertArrayEquals(new long[0], result.arrays().get("sr"));
        CalibrationData data = NpzData.read(out, NpzData.inputRanks(loaded), 1, 1 << 26);
        assertEquals(47, data.size());
        try (OrtRunner runner = OrtRunner.open(loaded)) {
            Map<String, TensorData> outputs = runner.run(data.sample(0));
            assertTrue(outputs.values().iterator().next().toFloats().length > 0);
        }
        assertEquals(16000, data.sample(3).get("sr").data().order(ByteOrder.LITTLE_ENDIAN).getLong(0));
    }

    @Test
    void aFileThatIsNotAWavIsNamed() throws IOException {
        Path folder = Files.createDirectories(temp.resolve("bad"));
        Files.write(folder.resolve("noise.wav"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13});
        Path model = RealModels.SILERO_VAD_V5.copyTo(temp.resolve("model"));

        EngineException e = assertThrows(EngineException.class, () -> RawData.audio(OnnxModel.load(model),
                new RawData.Request(folder, LabelSource.none(), Optional.empty(), 0, temp.resolve("x.npz")),
                new AudioOptions(16_000, OptionalInt.of(512), OptionalInt.empty())));

        assertTrue(e.getMessage().contains("noise.wav") && e.getMessage().contains("not a WAV file"), e.getMessage());
    }

    @Test
    void twentyFourBitIsReadAndEightBitIsUnsigned() {
        ByteBuffer file = ByteBuffer.allocate(44 + 3 + 1).order(ByteOrder.LITTLE_ENDIAN);
        file.put("RIFF".getBytes()).putInt(40).put("WAVE".getBytes());
        file.put("fmt ".getBytes()).putInt(16).putShort((short) 1).putShort((short) 1).putInt(8000).putInt(24000)
                .putShort((short) 3).putShort((short) 24);
        file.put("data".getBytes()).putInt(3).put(new byte[] {0, 0, (byte) 0xC0});
        float[] samples = WavFile.parse(Path.of("x.wav"), file.array()).samples();
        assertEquals(List.of(-0.5f), List.of(samples[0]), "0xC00000 is -0.5 in 24-bit");
    }
}

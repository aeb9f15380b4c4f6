package io.modelpress.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.ChainStep;
import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.CompressionReport;
import io.modelpress.engine.CompressionRequest;
import io.modelpress.engine.EngineException;
import io.modelpress.engine.ProgressListener;
import io.modelpress.engine.TestProfiles;
import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.model.LoadLimits;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.RealInputs;
import io.modelpress.testkit.RealModels;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Data for inputs whose batch is not axis 0: whole inputs per example, and constants for scalars. */
class WholeInputsTest {

    private static final int EXAMPLES = 6;

    @TempDir
    Path temp;

    /** What numpy.savez would write for a voice detector: audio windows, a recurrent state each, one sample rate. */
    private Path voiceData(int examples, int window, int stateWidth) throws IOException {
        SplittableRandom random = new SplittableRandom(9);
        float[] audio = new float[examples * window];
        for (int e = 0; e < examples; e++) {
            float[] one = RealInputs.audio(random, window).toFloats();
            System.arraycopy(one, 0, audio, e * window, window);
        }
        float[] state = new float[examples * 2 * stateWidth];
        for (int i = 0; i < state.length; i++) {
            state[i] = (float) (0.1 * (random.nextDouble() - 0.5));
        }
        Path file = temp.resolve("voice.npz");
        try (OutputStream out = Files.newOutputStream(file); NpzWriter npz = new NpzWriter(out)) {
            npz.floats("input", new long[] {examples, 1, window}, audio);
            npz.floats("state", new long[] {examples, 2, 1, stateWidth}, state);
            npz.longs("sr", new long[0], new long[] {16000});
        }
        return file;
    }

    @Test
    void eachExampleIsAWholeInputAndAScalarArrayIsTheSameForAll() throws IOException {
        Path file = voiceData(EXAMPLES, 16, 4);
        CalibrationData data = NpzData.read(file, Map.of("input", 2, "state", 3, "sr", 0), 32, 1 << 20);

        assertEquals(EXAMPLES, data.size(), "one example per sample, whatever the batch");
        for (int s = 0; s < EXAMPLES; s++) {
            Map<String, TensorData> sample = data.sample(s);
            assertArrayEquals(new long[] {1, 16}, sample.get("input").shape());
            assertArrayEquals(new long[] {2, 1, 4}, sample.get("state").shape());
            assertArrayEquals(new long[0], sample.get("sr").shape());
            assertEquals(16000, sample.get("sr").data().getLong(0));
        }
        float[] second = data.sample(1).get("state").toFloats();
        assertFalse(java.util.Arrays.equals(second, data.sample(0).get("state").toFloats()), "each example its own state");
    }

    @Test
    void aRankThatFitsNoLayoutIsNamed() throws IOException {
        Path file = voiceData(EXAMPLES, 16, 4);
        EngineException e = assertThrows(EngineException.class,
                () -> NpzData.read(file, Map.of("input", 2, "state", 2, "sr", 0), 1, 1 << 20));
        assertTrue(e.getMessage().contains("'state'") && e.getMessage().contains("rank 2 with the examples along axis 0")
                && e.getMessage().contains("rank 3 with one whole input per example"), e.getMessage());
    }

    @Test
    void aVoiceDetectorWithStateAndSampleRateIsMeasuredOnItsData() throws IOException {
        Path model = RealModels.SILERO_VAD_V5.copyTo(temp.resolve("model"));
        CalibrationData data = NpzData.read(voiceData(EXAMPLES, 512, 128),
                NpzData.inputRanks(OnnxModel.load(model)), 1, 1 << 24);
        CompressionEngine engine = new CompressionEngine(PluginRegistry.discover(getClass().getClassLoader()),
                LoadLimits.DEFAULT);

        CompressionReport report = engine.compress(new CompressionRequest(model, TestProfiles.cpu(),
                List.of(ChainStep.parse("int8-dynamic")), temp.resolve("out"), Optional.of(data), Optional.empty(),
                Optional.empty()), ProgressListener.NONE);

        CompressionReport.FidelityReport fidelity = report.fidelity();
        assertTrue(fidelity.unavailable().isEmpty(), fidelity.toString());
        assertEquals("real data: " + (EXAMPLES + 2) / 3 + " samples", fidelity.data(), "the third that judges");
        assertEquals(EXAMPLES - (EXAMPLES + 2) / 3, report.judging().tuningSamples());
        assertEquals(2, fidelity.outputs().size(), "the speech probability and the next state");
        fidelity.outputs().forEach(output -> assertTrue(output.meanCosine() > 0.9, output.toString()));
    }
}

package io.modelpress.engine.data.raw;

import static java.util.Objects.requireNonNull;

import io.modelpress.engine.EngineException;
import java.util.OptionalInt;

/**
 * How audio becomes a model input: resampled to {@code sampleRate}, mono, cut into windows of
 * {@code window} samples every {@code hop} samples. A file shorter than one window is padded with
 * silence; a last piece shorter than half a window is dropped, a longer one padded.
 *
 * @param sampleRate the rate the model was trained on
 * @param window samples per example; empty: the input's fixed last dim
 * @param hop samples between window starts; empty: the window (no overlap)
 */
public record AudioOptions(int sampleRate, OptionalInt window, OptionalInt hop) {

    public AudioOptions {
        requireNonNull(window, "window is null");
        requireNonNull(hop, "hop is null");
        if (sampleRate < 1) {
            throw new EngineException("sample rate must be at least 1 Hz, not " + sampleRate);
        }
        window.ifPresent(w -> {
            if (w < 1) {
                throw new EngineException("window must be at least 1 sample, not " + w);
            }
        });
        hop.ifPresent(h -> {
            if (h < 1) {
                throw new EngineException("hop must be at least 1 sample, not " + h);
            }
        });
    }

    /** 16 kHz, windows from the model. */
    public static AudioOptions defaults() {
        return new AudioOptions(16_000, OptionalInt.empty(), OptionalInt.empty());
    }
}

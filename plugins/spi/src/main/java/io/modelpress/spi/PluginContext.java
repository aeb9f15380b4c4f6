package io.modelpress.spi;

import io.modelpress.model.OnnxModel;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CancellationException;

/**
 * What the host gives a plugin while it runs. Long work reports progress and checks cancellation:
 * every call runs under a time limit on a thread of its own, and past the limit {@link #isCancelled()}
 * turns true and the thread is interrupted; a call that does not stop soon after is left behind
 * and its step fails.
 *
 * <p>Plugin jars run models only through {@link #runner}: their class loader does not see ONNX
 * Runtime, and a jar bundling it is refused. The host creates the process's one ONNX Runtime
 * environment before any plugin runs; a built-in plugin (on the host's class path) that needs ONNX
 * Runtime beyond {@link #runner} takes that environment with {@code OrtEnvironment.getEnvironment()}
 * and never closes it.
 */
public interface PluginContext {

    /**
     * Reports how far the plugin has come.
     *
     * @param fraction from 0 to 1
     * @param message what it is doing, e.g. "layer 3 of 12"
     */
    void progress(double fraction, String message);

    /** Whether the host asked the plugin to stop: the job was cancelled, or the step ran past its time limit. */
    boolean isCancelled();

    /** Throws when the host asked the plugin to stop; call it between units of long work. */
    default void checkCancelled() {
        if (isCancelled()) {
            throw new CancellationException("cancelled");
        }
    }

    /** A folder for the plugin's own files, removed by the host after the step. */
    Path tempDir();

    /** Representative inputs, when the request supplied them. */
    Optional<CalibrationData> calibrationData();

    /** The hardware target the chain compresses for. */
    HardwareProfile profile();

    /** Opens an inference session on a model (the input, or one the plugin made). */
    ModelRunner runner(OnnxModel model);

    /**
     * The model this chain started from: the model as the request gave it to the chain, before any
     * step of the chain ran. For the first step it is the model {@code apply} is given; for a later step
     * it is not what the steps before made of it, so a plugin that trains a damaged model can take its
     * targets from the outputs the model had before the damage ({@code context.runner(original)}).
     * Empty when the host does not say (a host of SPI version 1, a context for one model alone).
     *
     * @since SPI version 2
     */
    default Optional<OnnxModel> original() {
        return Optional.empty();
    }
}

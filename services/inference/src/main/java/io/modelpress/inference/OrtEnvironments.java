package io.modelpress.inference;

import ai.djl.engine.Engine;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import java.util.Locale;

/**
 * The one ONNX Runtime environment of the process. DJL's ONNX Runtime engine insists on creating
 * it itself (with thread-pool options) and fails if it exists already, so DJL is asked first and
 * everything else shares what it made. Call {@link #shared()} before any other ONNX Runtime use.
 */
public final class OrtEnvironments {

    private static volatile OrtEnvironment environment;

    private OrtEnvironments() {
    }

    public static OrtEnvironment shared() {
        OrtEnvironment env = environment;
        if (env == null) {
            synchronized (OrtEnvironments.class) {
                env = environment;
                if (env == null) {
                    System.setProperty("ai.djl.offline", "true");
                    try {
                        Engine.getEngine("OnnxRuntime");
                    } catch (RuntimeException | LinkageError e) {
                        // Someone created the environment before us; ONNX Runtime still works, DJL's engine will not.
                    }
                    env = OrtEnvironment.getEnvironment();
                    environment = env;
                }
            }
        }
        return env;
    }

    /**
     * Whether this process's ONNX Runtime has the named execution provider ("cpu", "cuda",
     * "xnnpack", ...; the runtime's own names such as "CUDAExecutionProvider" match too).
     */
    public static boolean hasProvider(String executionProvider) {
        shared(); // loads the runtime the way DJL needs it loaded, before anything else touches it
        String wanted = executionProvider.toLowerCase(Locale.ROOT).replace("executionprovider", "");
        for (OrtProvider provider : OrtEnvironment.getAvailableProviders()) {
            String name = provider.getName().toLowerCase(Locale.ROOT).replace("executionprovider", "");
            if (name.equals(wanted) || provider.name().toLowerCase(Locale.ROOT).equals(wanted)) {
                return true;
            }
        }
        return false;
    }
}

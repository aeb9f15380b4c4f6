package io.modelpress.inference;

import ai.djl.engine.Engine;
import ai.onnxruntime.OrtEnvironment;

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
}

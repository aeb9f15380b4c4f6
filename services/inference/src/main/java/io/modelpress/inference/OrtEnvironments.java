package io.modelpress.inference;

import ai.onnxruntime.OrtEnvironment;

/** The one ONNX Runtime environment of the process, shared by every session this project opens. */
public final class OrtEnvironments {

    private OrtEnvironments() {
    }

    public static OrtEnvironment shared() {
        return OrtEnvironment.getEnvironment();
    }
}

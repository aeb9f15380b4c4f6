package io.modelpress.plugins.distillation;

import java.util.Optional;

/** Hidden-layer activations a student can use: the teacher's own, so the student computes alike. */
enum Activation {
    RELU("Relu"),
    TANH("Tanh"),
    SIGMOID("Sigmoid");

    private final String opType;

    Activation(String opType) {
        this.opType = opType;
    }

    /** The ONNX operator. */
    String opType() {
        return opType;
    }

    static Optional<Activation> ofOpType(String opType) {
        for (Activation activation : values()) {
            if (activation.opType.equals(opType)) {
                return Optional.of(activation);
            }
        }
        return Optional.empty();
    }
}

package io.modelpress.plugins.distillation;

import java.util.Objects;

/**
 * One layer of a student network. The same list drives the DJL block that trains and the ONNX
 * graph that is exported, so the two cannot disagree about the architecture.
 */
sealed interface Layer {

    /** Trainable values of the layer. */
    default long parameters() {
        return 0;
    }

    /** Fully connected: y = x W^T + b with W of shape [outputs, inputs] (DJL's and Gemm transB=1's layout). */
    record Dense(int inputs, int outputs) implements Layer {
        public Dense {
            require(inputs > 0 && outputs > 0, "a dense layer needs positive widths");
        }

        @Override
        public long parameters() {
            return (long) inputs * outputs + outputs;
        }
    }

    /**
     * A square 2-D convolution with bias, padded to keep the size at stride 1. {@code groups ==
     * inputs == outputs} makes it depthwise.
     */
    record Conv(int inputs, int outputs, int kernel, int stride, int groups) implements Layer {
        public Conv {
            require(inputs > 0 && outputs > 0 && kernel > 0 && stride > 0 && groups > 0,
                    "a convolution needs positive sizes");
            require(inputs % groups == 0 && outputs % groups == 0, "channels must divide into groups");
        }

        int padding() {
            return kernel / 2;
        }

        @Override
        public long parameters() {
            return (long) outputs * (inputs / groups) * kernel * kernel + outputs;
        }
    }

    record Activate(Activation activation) implements Layer {
        public Activate {
            Objects.requireNonNull(activation, "activation is null");
        }
    }

    /** [N, C, H, W] to [N, C, 1, 1]. */
    record GlobalAveragePool() implements Layer {
    }

    /** Everything after the batch axis into one axis. */
    record Flatten() implements Layer {
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}

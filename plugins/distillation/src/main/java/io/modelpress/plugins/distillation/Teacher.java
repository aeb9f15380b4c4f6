package io.modelpress.plugins.distillation;

import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.modelpress.model.DataType;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * What distillation needs to know of the registered model: its kind, its one input and one score
 * output (kept as declared, so the student is a drop-in replacement), and the sizes a compact
 * student is derived from.
 *
 * @param kind MLP or CNN
 * @param input the graph input as declared
 * @param inputType its element type (a floating-point type)
 * @param inputDims its declared dims, empty where symbolic or unknown; empty list when no shape is declared
 * @param output the score output as declared
 * @param outputType its element type (a floating-point type)
 * @param head what the output holds: raw scores, probabilities (Softmax) or log-probabilities (LogSoftmax)
 * @param hiddenWidths MLP: the width of each hidden dense layer, in order
 * @param activation MLP: the hidden activation; CNN: Relu
 * @param convChannels CNN: the output channels of each Conv, in order
 * @param parameters weight elements of the whole model
 */
record Teacher(Kind kind, ValueInfoProto input, DataType inputType, List<OptionalLong> inputDims,
        ValueInfoProto output, DataType outputType, Head head, int[] hiddenWidths, Activation activation,
        int[] convChannels, long parameters) {

    enum Kind {
        MLP,
        CNN
    }

    /** How the score output relates to the logits a student learns. */
    enum Head {
        LOGITS,
        SOFTMAX,
        LOG_SOFTMAX
    }

    Teacher {
        Objects.requireNonNull(kind, "kind is null");
        Objects.requireNonNull(input, "input is null");
        Objects.requireNonNull(inputType, "inputType is null");
        inputDims = List.copyOf(inputDims);
        Objects.requireNonNull(output, "output is null");
        Objects.requireNonNull(outputType, "outputType is null");
        Objects.requireNonNull(head, "head is null");
        hiddenWidths = hiddenWidths.clone();
        Objects.requireNonNull(activation, "activation is null");
        convChannels = convChannels.clone();
    }

    String inputName() {
        return input.getName();
    }

    String outputName() {
        return output.getName();
    }

    @Override
    public int[] hiddenWidths() {
        return hiddenWidths.clone();
    }

    @Override
    public int[] convChannels() {
        return convChannels.clone();
    }

    /** The declared input shape for messages, symbolic dims as '?'. */
    String inputShapeText() {
        StringBuilder text = new StringBuilder("[");
        for (int i = 0; i < inputDims.size(); i++) {
            OptionalLong dim = inputDims.get(i);
            text.append(i == 0 ? "" : ",").append(dim.isPresent() ? Long.toString(dim.getAsLong()) : "?");
        }
        return text.append(']').toString();
    }
}

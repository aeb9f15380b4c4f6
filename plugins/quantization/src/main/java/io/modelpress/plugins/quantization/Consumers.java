package io.modelpress.plugins.quantization;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.modelpress.model.Nodes;
import io.modelpress.model.Weight;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which node inputs read a weight as numbers that tolerate rounding (matrices, kernels,
 * embedding tables, tensors that data-movement ops pass on) and along which axis a
 * per-channel scale fits them. Inputs that act as parameters (Resize scales, Clip bounds,
 * normalisation statistics) are not weights to quantize.
 */
final class Consumers {

    /** Op type to the inputs that read weights as tolerant values (default domain). */
    private static final Map<String, Set<Integer>> WEIGHT_INPUTS = Map.ofEntries(
            Map.entry("MatMul", Set.of(0, 1)),
            Map.entry("Gemm", Set.of(0, 1, 2)),
            Map.entry("Conv", Set.of(1, 2)),
            Map.entry("ConvTranspose", Set.of(1, 2)),
            Map.entry("Gather", Set.of(0)),
            Map.entry("LSTM", Set.of(1, 2, 3)),
            Map.entry("GRU", Set.of(1, 2, 3)),
            Map.entry("RNN", Set.of(1, 2, 3)),
            Map.entry("Einsum", Set.of(0, 1, 2)),
            Map.entry("Add", Set.of(0, 1)),
            Map.entry("Sub", Set.of(0, 1)),
            Map.entry("Mul", Set.of(0, 1)),
            Map.entry("Slice", Set.of(0)),
            Map.entry("Reshape", Set.of(0)),
            Map.entry("Transpose", Set.of(0)),
            Map.entry("Squeeze", Set.of(0)),
            Map.entry("Unsqueeze", Set.of(0)),
            Map.entry("Identity", Set.of(0)),
            Map.entry("Split", Set.of(0)),
            Map.entry("Concat", Set.of(0, 1, 2, 3, 4, 5, 6, 7)),
            Map.entry("Expand", Set.of(0)),
            Map.entry("Tile", Set.of(0)),
            Map.entry("Flatten", Set.of(0)),
            Map.entry("Where", Set.of(1, 2)),
            Map.entry("PRelu", Set.of(1)));

    /**
     * Microsoft contrib ops whose weight inputs are safe too. EmbedLayerNormalization's word, position
     * and token-type tables are looked up by row like a Gather's: quantized per row and read through
     * Cast and Mul, which ONNX Runtime folds back to float at load, they keep their int8 size on disk
     * (not in memory: the operator takes float tables).
     */
    private static final Map<String, Set<Integer>> MS_WEIGHT_INPUTS = Map.of(
            "FusedMatMul", Set.of(0, 1),
            "FusedConv", Set.of(1, 2),
            "Attention", Set.of(1, 2),
            "EmbedLayerNormalization", Set.of(2, 3, 4));

    private Consumers() {
    }

    /** Why this use cannot read a quantized weight, or empty when it can. */
    static Optional<String> refusal(Weight.Use use) {
        Map<String, Set<Integer>> table = use.domain().isEmpty() || use.domain().equals("ai.onnx") ? WEIGHT_INPUTS
                : use.domain().equals(ModelEdit.MS_DOMAIN) ? MS_WEIGHT_INPUTS : Map.of();
        Set<Integer> inputs = table.get(use.opType());
        if (inputs != null && inputs.contains(use.inputIndex())) {
            return Optional.empty();
        }
        String op = use.domain().isEmpty() ? use.opType() : use.domain() + "." + use.opType();
        String node = use.nodeName().isEmpty() ? "" : " '" + use.nodeName() + "'";
        return Optional.of("read by " + op + node + " as input " + use.inputIndex()
                + ", which takes exact values, not a weight that tolerates rounding");
    }

    /**
     * The axis a per-channel scale runs along for a weight read by {@code node}: output channels
     * of kernels and matrices, rows of embedding tables, gate rows of recurrent weights.
     */
    static int channelAxis(long[] dims, NodeProto node, int inputIndex) {
        int rank = dims.length;
        if (rank < 2) {
            return -1;
        }
        int axis = switch (node.getOpType()) {
            case "MatMul", "FusedMatMul" -> inputIndex == 1 ? rank - 1 : rank - 2;
            case "Attention" -> inputIndex == 1 ? 1 : 0; // packed QKV weight [hidden, 3 * hidden]: per column
            case "Gemm" -> inputIndex == 1
                    ? (Nodes.intAttribute(node, "transB", 0) == 1 ? 0 : 1)
                    : (Nodes.intAttribute(node, "transA", 0) == 1 ? 1 : 0);
            case "ConvTranspose" -> 1;
            case "Gather" -> Nodes.intAttribute(node, "axis", 0) == 0 ? 0 : -1;
            case "EmbedLayerNormalization" -> 0; // tables looked up by row
            case "LSTM", "GRU", "RNN" -> 1;
            default -> 0;
        };
        if (axis < 0 || dims[axis] <= 1) {
            // one channel is no channel: fall back to the largest axis that splits the tensor
            axis = -1;
            for (int d = 0; d < rank; d++) {
                if (dims[d] > 1 && (axis < 0 || dims[d] > dims[axis])) {
                    axis = d;
                }
            }
        }
        return axis;
    }
}

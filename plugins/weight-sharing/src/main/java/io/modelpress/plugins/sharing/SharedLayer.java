package io.modelpress.plugins.sharing;

import io.modelpress.model.DataType;
import io.modelpress.model.Shapes;
import io.modelpress.model.Weight;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A weight that MatMul, Gemm or Conv layers read, which weight sharing may cluster.
 *
 * @param weight the weight
 * @param layerUses the node inputs that read it as a layer weight
 */
record SharedLayer(Weight weight, List<Weight.Use> layerUses) {

    SharedLayer {
        Objects.requireNonNull(weight, "weight is null");
        layerUses = List.copyOf(layerUses);
    }

    /** Whether a node input reads a layer weight: MatMul or Gemm operands, a Conv's filters. */
    static boolean isLayerUse(Weight.Use use) {
        if (!use.domain().isEmpty()) {
            return false;
        }
        return switch (use.opType()) {
            case "MatMul", "Gemm" -> use.inputIndex() <= 1;
            case "Conv" -> use.inputIndex() == 1;
            default -> false;
        };
    }

    static boolean isFloat(DataType type) {
        return type == DataType.FLOAT || type == DataType.FLOAT16 || type == DataType.BFLOAT16;
    }

    String name() {
        return weight.name();
    }

    /** Whether {@code item} names this layer: its weight, one of its nodes, or the operator type of one. */
    boolean isNamedBy(String item) {
        return weight.name().equals(item) || layerUses.stream()
                .anyMatch(use -> use.opType().equals(item) || !use.nodeName().isEmpty() && use.nodeName().equals(item));
    }

    /** "weight 'w1' [64,64] (Gemm 'fc1')", with the subgraph when it is not the main graph. */
    String label() {
        String readers = layerUses.stream()
                .map(use -> use.opType() + (use.nodeName().isEmpty() ? " #" + use.nodeIndex() : " '" + use.nodeName() + "'"))
                .collect(Collectors.joining(", "));
        String where = weight.ref().graph().isMain() ? "" : " in " + weight.ref().graph();
        return "weight '" + weight.name() + "' " + Shapes.format(weight.dims()) + " (" + readers + ")" + where;
    }
}

package io.modelpress.plugins.lowrank;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.modelpress.model.Shapes;
import io.modelpress.model.Weight;
import java.util.Objects;

/**
 * A layer whose weight can be factored: the weight, the one node that reads it, and the weight
 * seen as a matrix. For MatMul and Gemm the matrix is K × N as the product uses it (a Gemm weight
 * stored with transB=1 is transposed); for Conv it is C_out × (C_in · kernel elements).
 *
 * @param weight the weight
 * @param use the node input that reads it
 * @param node the node
 * @param kind the operator
 * @param rows matrix rows
 * @param cols matrix columns
 */
record Layer(Weight weight, Weight.Use use, NodeProto node, Kind kind, int rows, int cols) {

    enum Kind {
        MATMUL("MatMul"),
        GEMM("Gemm"),
        CONV("Conv");

        private final String opType;

        Kind(String opType) {
            this.opType = opType;
        }

        String opType() {
            return opType;
        }
    }

    Layer {
        Objects.requireNonNull(weight, "weight is null");
        Objects.requireNonNull(use, "use is null");
        Objects.requireNonNull(node, "node is null");
        Objects.requireNonNull(kind, "kind is null");
    }

    long parameters() {
        return (long) rows * cols;
    }

    /** Parameters of the two factors at rank {@code rank}. */
    long parameters(int rank) {
        return (long) rank * (rows + cols);
    }

    String nodeName() {
        return use.nodeName();
    }

    /** How reports name the layer: node, operator, weight and shape, and the subgraph if not the main graph. */
    String label() {
        return describe(weight, use);
    }

    static String describe(Weight weight, Weight.Use use) {
        String node = use.nodeName().isEmpty() ? "node #" + use.nodeIndex() : "'" + use.nodeName() + "'";
        String where = use.graph().isMain() ? "" : " in " + use.graph();
        return node + " (" + use.opType() + ", weight '" + weight.name() + "' " + Shapes.format(weight.dims()) + ")"
                + where;
    }
}

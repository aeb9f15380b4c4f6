package io.modelpress.model;

import java.util.List;

/**
 * A constant tensor of a model, wherever it lives: an initializer or the value of a Constant
 * node, in the main graph or in a subgraph. Plugins work on weights through this view so that
 * they never have to care where a weight is stored.
 *
 * @param ref where the weight is defined
 * @param storage how it is stored
 * @param type element type
 * @param dims shape (a copy: callers may not change it)
 * @param elements number of elements
 * @param bytes size of its values as raw data
 * @param uses the node inputs that read it, in this graph or in nested subgraphs
 */
public record Weight(Ref ref, Storage storage, DataType type, long[] dims, long elements, long bytes, List<Use> uses) {

    /** A weight's identity: the graph that defines it and its value name there. */
    public record Ref(GraphPath graph, String name) {
        @Override
        public String toString() {
            return graph.isMain() ? name : graph + ":" + name;
        }
    }

    /** One node input that reads a weight. */
    public record Use(GraphPath graph, int nodeIndex, String nodeName, String opType, String domain, int inputIndex) {
    }

    public enum Storage {
        INITIALIZER,
        CONSTANT_NODE
    }

    public Weight {
        dims = dims.clone();
        uses = List.copyOf(uses);
    }

    @Override
    public long[] dims() {
        return dims.clone();
    }

    public String name() {
        return ref.name();
    }

    public int rank() {
        return dims.length;
    }

    /** Whether every use is input {@code inputIndex} of an operator of type {@code opType} (default domain). */
    public boolean onlyUsedAs(String opType, int inputIndex) {
        return !uses.isEmpty() && uses.stream()
                .allMatch(use -> use.opType().equals(opType) && use.inputIndex() == inputIndex && use.domain().isEmpty());
    }
}

package io.modelpress.plugins.fusion;

import static java.util.Objects.requireNonNull;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.Tensors;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A read-only index over one graph for pattern matching: who produces and who reads each value,
 * and which values are constants (initializers or Constant nodes). Nodes are named by their index.
 */
final class GraphView {

    final GraphProto graph;
    private final Map<String, Integer> producers = new HashMap<>();
    private final Map<String, List<Integer>> readers = new HashMap<>();
    private final Map<String, TensorProto> initializers = new HashMap<>();
    private final Map<String, ValueInfoProto> inputs = new HashMap<>();
    private final Set<String> outputs = new HashSet<>();

    GraphView(GraphProto graph) {
        this.graph = requireNonNull(graph, "graph is null");
        for (int n = 0; n < graph.getNodeCount(); n++) {
            NodeProto node = graph.getNode(n);
            for (String output : node.getOutputList()) {
                producers.put(output, n);
            }
            for (String input : node.getInputList()) {
                if (!input.isEmpty()) {
                    readers.computeIfAbsent(input, k -> new ArrayList<>()).add(n);
                }
            }
        }
        graph.getInitializerList().forEach(t -> initializers.put(t.getName(), t));
        graph.getInputList().forEach(v -> inputs.put(v.getName(), v));
        graph.getOutputList().forEach(v -> outputs.add(v.getName()));
    }

    NodeProto node(int index) {
        return graph.getNode(index);
    }

    /** The index of the node producing {@code value}, whatever its type, or -1. */
    int producer(String value) {
        return producers.getOrDefault(value, -1);
    }

    /** The index of the node of {@code opType} (default domain) producing {@code value}, or -1. */
    int producer(String value, String opType) {
        Integer index = producers.get(value);
        return index != null && graph.getNode(index).getOpType().equals(opType)
                && graph.getNode(index).getDomain().isEmpty() ? index : -1;
    }

    List<Integer> readers(String value) {
        return readers.getOrDefault(value, List.of());
    }

    /** Whether exactly the nodes {@code indices} read {@code value} and it is no graph output. */
    boolean onlyReadBy(String value, int... indices) {
        if (outputs.contains(value)) {
            return false;
        }
        Set<Integer> expected = new HashSet<>();
        for (int index : indices) {
            expected.add(index);
        }
        return new HashSet<>(readers(value)).equals(expected);
    }

    /** The single reader of {@code value} when it has exactly one and is no graph output, else -1. */
    int onlyReader(String value, String opType) {
        List<Integer> those = readers(value);
        if (those.size() != 1 || outputs.contains(value)) {
            return -1;
        }
        NodeProto node = graph.getNode(those.get(0));
        return node.getOpType().equals(opType) && node.getDomain().isEmpty() ? those.get(0) : -1;
    }

    boolean isGraphOutput(String value) {
        return outputs.contains(value);
    }

    Optional<ValueInfoProto> graphInput(String name) {
        return Optional.ofNullable(inputs.get(name));
    }

    /** The float values of a constant (initializer without a graph input of the same name, or Constant node). */
    Optional<float[]> floats(String value) {
        return constant(value).filter(t -> t.getDataType() == DataType.FLOAT.code()).map(Tensors::toFloats);
    }

    /** The dims of a constant, when {@code value} is one. */
    Optional<long[]> dims(String value) {
        return constant(value).map(Tensors::dims);
    }

    /** The integer values of a constant int64 or int32 tensor. */
    Optional<long[]> longs(String value) {
        return constant(value).filter(t -> t.getDataType() == DataType.INT64.code() || t.getDataType() == DataType.INT32.code())
                .map(Tensors::toLongs);
    }

    /** A constant holding one float value. */
    Optional<Float> scalar(String value) {
        return floats(value).filter(v -> v.length == 1).map(v -> v[0]);
    }

    boolean isConstant(String value) {
        return constant(value).isPresent();
    }

    private Optional<TensorProto> constant(String value) {
        if (inputs.containsKey(value)) {
            return Optional.empty(); // an overridable initializer is an input, not a constant
        }
        TensorProto initializer = initializers.get(value);
        if (initializer != null) {
            return Optional.of(initializer);
        }
        Integer index = producers.get(value);
        if (index == null) {
            return Optional.empty();
        }
        NodeProto node = graph.getNode(index);
        if (!node.getOpType().equals("Constant") || !node.getDomain().isEmpty()) {
            return Optional.empty();
        }
        return Nodes.attribute(node, "value").filter(AttributeProto::hasT).map(AttributeProto::getT);
    }

    /** The one input of a two-input node that is not {@code known}, or empty when neither matches. */
    static Optional<String> other(NodeProto node, String known) {
        if (node.getInputCount() != 2) {
            return Optional.empty();
        }
        if (node.getInput(0).equals(known)) {
            return Optional.of(node.getInput(1));
        }
        return node.getInput(1).equals(known) ? Optional.of(node.getInput(0)) : Optional.empty();
    }

    /** The axes of a reduction or Unsqueeze: its attribute (older opsets) or constant second input. */
    Optional<long[]> axes(NodeProto node) {
        Optional<AttributeProto> attribute = Nodes.attribute(node, "axes");
        if (attribute.isPresent()) {
            return Optional.of(attribute.get().getIntsList().stream().mapToLong(Long::longValue).toArray());
        }
        return node.getInputCount() > 1 ? longs(node.getInput(1)) : Optional.empty();
    }

    static long[] perm(NodeProto node) {
        return Nodes.attribute(node, "perm").map(a -> a.getIntsList().stream().mapToLong(Long::longValue).toArray())
                .orElse(new long[0]);
    }
}

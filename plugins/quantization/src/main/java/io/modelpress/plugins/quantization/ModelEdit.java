package io.modelpress.plugins.quantization;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.modelpress.model.GraphPath;
import io.modelpress.model.Graphs;
import io.modelpress.model.Nodes;
import io.modelpress.model.Weight;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Edits to a model, collected graph by graph and applied in one rewrite. Node positions refer to
 * the original graphs, so edits never disturb one another; names it hands out are unique across
 * the whole model (subgraphs see their parents' names, so uniqueness has to be global).
 */
final class ModelEdit {

    static final String MS_DOMAIN = "com.microsoft";

    private final ModelProto original;
    private final Set<String> names = new HashSet<>();
    private final Map<GraphPath, GraphEdit> edits = new HashMap<>();
    private final Map<GraphPath, Map<String, Integer>> constantNodes = new HashMap<>();
    private final Map<GraphPath, GraphProto> graphs = new HashMap<>();
    private boolean needsMicrosoftDomain;

    ModelEdit(ModelProto original) {
        this.original = Objects.requireNonNull(original, "original is null");
        Graphs.forEach(original, (path, graph) -> {
            graphs.put(path, graph);
            Map<String, Integer> constants = new HashMap<>();
            graph.getInputList().forEach(v -> names.add(v.getName()));
            graph.getOutputList().forEach(v -> names.add(v.getName()));
            graph.getInitializerList().forEach(t -> names.add(t.getName()));
            for (int n = 0; n < graph.getNodeCount(); n++) {
                NodeProto node = graph.getNode(n);
                names.add(node.getName());
                names.addAll(node.getInputList());
                names.addAll(node.getOutputList());
                if (node.getOpType().equals("Constant") && node.getOutputCount() == 1) {
                    constants.put(node.getOutput(0), n);
                }
            }
            constantNodes.put(path, constants);
        });
    }

    /** A name no graph of the model uses yet, built from {@code base}. */
    String fresh(String base) {
        String candidate = base;
        for (int i = 1; !names.add(candidate); i++) {
            candidate = base + "_" + i;
        }
        return candidate;
    }

    GraphProto graph(GraphPath path) {
        return graphs.get(path);
    }

    /** A node in the Microsoft contrib domain; the model gets the opset import it needs. */
    NodeProto microsoft(NodeProto node) {
        needsMicrosoftDomain = true;
        return node.toBuilder().setDomain(MS_DOMAIN).build();
    }

    /** A node in {@code domain} (empty for the default domain). */
    NodeProto inDomain(NodeProto node, String domain) {
        return domain.isEmpty() ? node : microsoft(node);
    }

    NodeProto node(String opType, List<String> inputs, List<String> outputs,
            ai.onnx.proto.OnnxMl.AttributeProto... attributes) {
        return Nodes.node(opType, fresh(outputs.get(0) + "_" + opType), inputs, outputs, attributes);
    }

    /**
     * Stores {@code tensor} (renamed to a fresh name built from {@code base}) where {@code near}
     * is stored: an initializer beside an initializer, a Constant node beside a Constant node.
     * Returns the name.
     */
    String store(Weight near, String base, TensorProto tensor) {
        String name = fresh(base);
        GraphEdit edit = at(near.ref().graph());
        if (near.storage() == Weight.Storage.INITIALIZER) {
            edit.addInitializers.add(tensor.toBuilder().setName(name).build());
        } else {
            int index = constantIndex(near);
            edit.before.computeIfAbsent(index, i -> new ArrayList<>()).add(Nodes.node("Constant", fresh(name + "_const"),
                    List.of(), List.of(name), Nodes.attr("value", tensor.toBuilder().clearName().build())));
        }
        return name;
    }

    /** Removes a weight's definition (its initializer, graph input entry or Constant node). */
    void remove(Weight weight) {
        GraphEdit edit = at(weight.ref().graph());
        if (weight.storage() == Weight.Storage.INITIALIZER) {
            edit.removeInitializers.add(weight.name());
        } else {
            edit.replace.put(constantIndex(weight), List.of());
        }
    }

    /** Places a node that reads only what {@link #store} put beside {@code weight}, before any reader of it. */
    void addBeside(Weight weight, NodeProto node) {
        GraphEdit edit = at(weight.ref().graph());
        if (weight.storage() == Weight.Storage.INITIALIZER) {
            edit.prepend.add(node);
        } else {
            edit.after.computeIfAbsent(constantIndex(weight), i -> new ArrayList<>()).add(node);
        }
    }

    /** Replaces node {@code index} of a graph with {@code nodes} (none: removes it). */
    void replace(GraphPath path, int index, List<NodeProto> nodes) {
        if (at(path).replace.put(index, List.copyOf(nodes)) != null) {
            throw new IllegalStateException("node " + index + " of " + path + " is replaced twice");
        }
    }

    /** Puts nodes right before node {@code index}. */
    void insertBefore(GraphPath path, int index, List<NodeProto> nodes) {
        at(path).before.computeIfAbsent(index, i -> new ArrayList<>()).addAll(nodes);
    }

    /** Puts nodes right after node {@code index}, or at the start when {@code index} is -1. */
    void insertAfter(GraphPath path, int index, List<NodeProto> nodes) {
        GraphEdit edit = at(path);
        if (index < 0) {
            edit.prepend.addAll(nodes);
        } else {
            edit.after.computeIfAbsent(index, i -> new ArrayList<>()).addAll(nodes);
        }
    }

    void addInitializer(GraphPath path, TensorProto tensor) {
        at(path).addInitializers.add(tensor);
    }

    boolean isEmpty() {
        return edits.isEmpty();
    }

    ModelProto build() {
        ModelProto rewritten = Graphs.rewrite(original, (path, graph) -> {
            GraphEdit edit = edits.get(path);
            return edit == null ? graph : edit.apply(graph);
        });
        if (!needsMicrosoftDomain || rewritten.getOpsetImportList().stream().anyMatch(o -> o.getDomain().equals(MS_DOMAIN))) {
            return rewritten;
        }
        return rewritten.toBuilder()
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(MS_DOMAIN).setVersion(1))
                .build();
    }

    private GraphEdit at(GraphPath path) {
        return edits.computeIfAbsent(path, p -> new GraphEdit());
    }

    private int constantIndex(Weight weight) {
        Integer index = constantNodes.getOrDefault(weight.ref().graph(), Map.of()).get(weight.name());
        if (index == null) {
            throw new IllegalStateException("no Constant node defines " + weight.ref());
        }
        return index;
    }

    private static final class GraphEdit {
        final List<NodeProto> prepend = new ArrayList<>();
        final Map<Integer, List<NodeProto>> before = new HashMap<>();
        final Map<Integer, List<NodeProto>> after = new HashMap<>();
        final Map<Integer, List<NodeProto>> replace = new HashMap<>();
        final Set<String> removeInitializers = new HashSet<>();
        final List<TensorProto> addInitializers = new ArrayList<>();

        GraphProto apply(GraphProto graph) {
            GraphProto.Builder builder = graph.toBuilder().clearNode();
            builder.addAllNode(prepend);
            for (int n = 0; n < graph.getNodeCount(); n++) {
                builder.addAllNode(before.getOrDefault(n, List.of()));
                List<NodeProto> replacement = replace.get(n);
                if (replacement == null) {
                    builder.addNode(graph.getNode(n));
                } else {
                    builder.addAllNode(replacement);
                }
                builder.addAllNode(after.getOrDefault(n, List.of()));
            }
            if (!removeInitializers.isEmpty()) {
                builder.clearInitializer();
                for (TensorProto tensor : graph.getInitializerList()) {
                    if (!removeInitializers.contains(tensor.getName())) {
                        builder.addInitializer(tensor);
                    }
                }
                // old exporters list initializers as graph inputs too; a removed one is no input any more
                builder.clearInput();
                for (ValueInfoProto input : graph.getInputList()) {
                    if (!removeInitializers.contains(input.getName())) {
                        builder.addInput(input);
                    }
                }
            }
            builder.addAllInitializer(addInitializers);
            return builder.build();
        }
    }
}

package io.modelpress.model;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Every weight of a model with the node inputs that read it. Names are resolved with ONNX scoping:
 * a subgraph sees the values of its enclosing graphs unless it defines the same name itself.
 */
public final class WeightIndex {

    private final Map<Weight.Ref, Weight> weights;
    private final Map<Weight.Ref, TensorProto> tensors;

    private WeightIndex(Map<Weight.Ref, Weight> weights, Map<Weight.Ref, TensorProto> tensors) {
        this.weights = Collections.unmodifiableMap(weights);
        this.tensors = tensors;
    }

    public static WeightIndex of(ModelProto model) {
        Builder builder = new Builder();
        builder.scan(GraphPath.MAIN, model.getGraph(), new ArrayDeque<>());
        return builder.build();
    }

    /** All weights, in graph order (main graph first, then subgraphs as they are met). */
    public List<Weight> all() {
        return List.copyOf(weights.values());
    }

    public Optional<Weight> get(Weight.Ref ref) {
        return Optional.ofNullable(weights.get(ref));
    }

    /** The weight's tensor, named as the value it defines (Constant node tensors often carry no name). */
    public TensorProto tensor(Weight.Ref ref) {
        TensorProto tensor = tensors.get(ref);
        if (tensor == null) {
            throw new IllegalArgumentException("no weight " + ref);
        }
        return tensor;
    }

    public long totalBytes() {
        return weights.values().stream().mapToLong(Weight::bytes).sum();
    }

    public long totalElements() {
        return weights.values().stream().mapToLong(Weight::elements).sum();
    }

    /**
     * A copy of the model with the given weights' tensors replaced where they are stored. The
     * replacement keeps the weight's name; its type and shape may differ (a quantized tensor, a
     * factor), in which case the caller also rewrites the consumers.
     */
    public static ModelProto replace(ModelProto model, Map<Weight.Ref, TensorProto> replacements) {
        if (replacements.isEmpty()) {
            return model;
        }
        Map<GraphPath, Map<String, TensorProto>> byGraph = new HashMap<>();
        replacements.forEach((ref, tensor) -> byGraph.computeIfAbsent(ref.graph(), g -> new HashMap<>())
                .put(ref.name(), tensor.toBuilder().setName(ref.name()).build()));
        Set<Weight.Ref> pending = new HashSet<>(replacements.keySet());
        ModelProto result = Graphs.rewrite(model, (path, graph) -> {
            Map<String, TensorProto> here = byGraph.get(path);
            return here == null ? graph : replaceIn(path, graph, here, pending);
        });
        if (!pending.isEmpty()) {
            throw new IllegalArgumentException("no weights " + pending + " in the model");
        }
        return result;
    }

    private static GraphProto replaceIn(GraphPath path, GraphProto graph, Map<String, TensorProto> replacements,
            Set<Weight.Ref> pending) {
        GraphProto.Builder builder = graph.toBuilder();
        for (int i = 0; i < builder.getInitializerCount(); i++) {
            TensorProto replacement = replacements.get(builder.getInitializer(i).getName());
            if (replacement != null) {
                builder.setInitializer(i, replacement);
                pending.remove(new Weight.Ref(path, replacement.getName()));
            }
        }
        for (int n = 0; n < builder.getNodeCount(); n++) {
            NodeProto node = builder.getNode(n);
            if (!isConstantWithTensor(node)) {
                continue;
            }
            TensorProto replacement = replacements.get(node.getOutput(0));
            if (replacement == null) {
                continue;
            }
            NodeProto.Builder nodeBuilder = node.toBuilder();
            for (int a = 0; a < nodeBuilder.getAttributeCount(); a++) {
                if (nodeBuilder.getAttribute(a).getName().equals("value")) {
                    nodeBuilder.setAttribute(a, nodeBuilder.getAttribute(a).toBuilder().setT(replacement));
                }
            }
            builder.setNode(n, nodeBuilder);
            pending.remove(new Weight.Ref(path, replacement.getName()));
        }
        return builder.build();
    }

    static boolean isConstantWithTensor(NodeProto node) {
        if (!node.getOpType().equals("Constant") || !node.getDomain().isEmpty() || node.getOutputCount() != 1) {
            return false;
        }
        for (AttributeProto attribute : node.getAttributeList()) {
            if (attribute.getName().equals("value") && attribute.hasT()) {
                return true;
            }
        }
        return false;
    }

    static TensorProto constantTensor(NodeProto node) {
        for (AttributeProto attribute : node.getAttributeList()) {
            if (attribute.getName().equals("value")) {
                return attribute.getT();
            }
        }
        throw new IllegalArgumentException("Constant node without a tensor value");
    }

    /** The names one graph defines, and which of them are weights. */
    private record Scope(GraphPath path, Set<String> defined, Map<String, Weight.Ref> weights) {
    }

    private static final class Builder {
        private final Map<Weight.Ref, Weight.Storage> storage = new LinkedHashMap<>();
        private final Map<Weight.Ref, TensorProto> tensors = new HashMap<>();
        private final Map<Weight.Ref, List<Weight.Use>> uses = new HashMap<>();

        void scan(GraphPath path, GraphProto graph, Deque<Scope> enclosing) {
            Scope scope = defineScope(path, graph);
            enclosing.push(scope);
            for (int n = 0; n < graph.getNodeCount(); n++) {
                NodeProto node = graph.getNode(n);
                for (int i = 0; i < node.getInputCount(); i++) {
                    Weight.Ref ref = resolve(node.getInput(i), enclosing);
                    if (ref != null) {
                        uses.get(ref).add(new Weight.Use(path, n, node.getName(), node.getOpType(), node.getDomain(), i));
                    }
                }
                for (AttributeProto attribute : node.getAttributeList()) {
                    if (attribute.hasG()) {
                        scan(path.child(n, node.getName(), attribute.getName(), 0), attribute.getG(), enclosing);
                    }
                    for (int g = 0; g < attribute.getGraphsCount(); g++) {
                        scan(path.child(n, node.getName(), attribute.getName(), g), attribute.getGraphs(g), enclosing);
                    }
                }
            }
            enclosing.pop();
        }

        private Scope defineScope(GraphPath path, GraphProto graph) {
            Set<String> defined = new HashSet<>();
            Map<String, Weight.Ref> weights = new HashMap<>();
            for (ValueInfoProto input : graph.getInputList()) {
                defined.add(input.getName());
            }
            for (TensorProto initializer : graph.getInitializerList()) {
                Weight.Ref ref = new Weight.Ref(path, initializer.getName());
                add(ref, Weight.Storage.INITIALIZER, initializer);
                defined.add(initializer.getName());
                weights.put(initializer.getName(), ref);
            }
            for (NodeProto node : graph.getNodeList()) {
                defined.addAll(node.getOutputList());
                if (isConstantWithTensor(node)) {
                    String name = node.getOutput(0);
                    Weight.Ref ref = new Weight.Ref(path, name);
                    add(ref, Weight.Storage.CONSTANT_NODE, constantTensor(node).toBuilder().setName(name).build());
                    weights.put(name, ref);
                }
            }
            return new Scope(path, defined, weights);
        }

        private void add(Weight.Ref ref, Weight.Storage kind, TensorProto tensor) {
            storage.put(ref, kind);
            tensors.put(ref, tensor);
            uses.put(ref, new ArrayList<>());
        }

        private static Weight.Ref resolve(String name, Deque<Scope> enclosing) {
            if (name.isEmpty()) {
                return null;
            }
            for (Iterator<Scope> it = enclosing.iterator(); it.hasNext(); ) {
                Scope scope = it.next();
                if (scope.defined().contains(name)) {
                    return scope.weights().get(name);
                }
            }
            return null;
        }

        WeightIndex build() {
            Map<Weight.Ref, Weight> weights = new LinkedHashMap<>();
            storage.forEach((ref, kind) -> {
                TensorProto tensor = tensors.get(ref);
                DataType type = DataType.of(tensor);
                long elements = Tensors.elementCount(tensor);
                weights.put(ref, new Weight(ref, kind, type, Tensors.dims(tensor), elements,
                        Tensors.byteSize(tensor), uses.get(ref)));
            });
            return new WeightIndex(weights, tensors);
        }
    }
}

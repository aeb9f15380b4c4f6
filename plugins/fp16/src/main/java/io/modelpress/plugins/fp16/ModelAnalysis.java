package io.modelpress.plugins.fp16;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.modelpress.model.DataType;
import io.modelpress.model.GraphPath;
import io.modelpress.model.Weight;
import io.modelpress.model.WeightIndex;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What the converter needs to know about every value of every graph: its element type, whether
 * it depends on the values of the model's inputs ("data") or only on constants and input shapes
 * ("static"), who produces and who reads it, and which static computations feed shapes or
 * indices. Names are resolved with ONNX scoping, the way {@link WeightIndex} does.
 */
final class ModelAnalysis {

    /** A value: the graph that defines it and its name there. */
    record ValueKey(GraphPath graph, String name) {
        ValueKey {
            Objects.requireNonNull(graph, "graph is null");
            Objects.requireNonNull(name, "name is null");
        }

        Weight.Ref ref() {
            return new Weight.Ref(graph, name);
        }
    }

    /** How a value comes to be. */
    enum Origin {
        GRAPH_INPUT,
        /** An initializer that is also a graph input: a default the caller may override. */
        OVERRIDABLE,
        WEIGHT,
        /** A sparse initializer: never converted. */
        SPARSE_WEIGHT,
        NODE
    }

    /** One node where it sits, with its inputs and outputs resolved to values (null: an empty name). */
    static final class NodeInfo {
        final GraphPath graph;
        final int index;
        final NodeProto node;
        final List<ValueKey> inputs;
        final List<ValueKey> outputs;
        boolean isStatic;

        NodeInfo(GraphPath graph, int index, NodeProto node, List<ValueKey> inputs, List<ValueKey> outputs) {
            this.graph = graph;
            this.index = index;
            this.node = node;
            this.inputs = inputs;
            this.outputs = outputs;
        }

        String describe() {
            return node.getOpType() + " '" + (node.getName().isEmpty() ? "#" + index : node.getName()) + "'"
                    + (graph.isMain() ? "" : " in " + graph);
        }
    }

    /** One graph: its inputs, outputs (resolved, possibly to outer values) and nodes; owner is null for the main graph. */
    record GraphInfo(GraphPath path, GraphProto graph, NodeInfo owner, List<ValueKey> inputs, List<ValueKey> outputs,
            List<NodeInfo> nodes) {
    }

    /** A node input that reads a value. */
    record Use(NodeInfo node, int input) {
    }

    private final Map<ValueKey, DataType> types = new HashMap<>();
    private final Set<ValueKey> data = new HashSet<>();
    private final Map<ValueKey, Origin> origins = new HashMap<>();
    private final Map<ValueKey, NodeInfo> producers = new HashMap<>();
    private final Map<ValueKey, List<Use>> uses = new HashMap<>();
    private final Map<GraphPath, GraphInfo> graphs = new LinkedHashMap<>();
    private final Set<ValueKey> feedsShapes = new HashSet<>();
    private final Set<NodeInfo> shapeNodes = new HashSet<>();
    private final Set<String> names = new HashSet<>();
    private final Set<Weight.Ref> indexedWeights;

    private ModelAnalysis(WeightIndex weights) {
        Set<Weight.Ref> refs = new HashSet<>();
        weights.all().forEach(weight -> refs.add(weight.ref()));
        this.indexedWeights = refs;
    }

    static ModelAnalysis of(ModelProto model, WeightIndex weights) {
        ModelAnalysis analysis = new ModelAnalysis(weights);
        analysis.analyse(GraphPath.MAIN, model.getGraph(), new ArrayDeque<>(), null, List.of());
        analysis.findShapeComputations();
        return analysis;
    }

    DataType type(ValueKey key) {
        return key == null ? DataType.UNDEFINED : types.getOrDefault(key, DataType.UNDEFINED);
    }

    boolean isFloat(ValueKey key) {
        return type(key) == DataType.FLOAT;
    }

    Origin origin(ValueKey key) {
        return origins.get(key);
    }

    NodeInfo producer(ValueKey key) {
        return producers.get(key);
    }

    List<Use> uses(ValueKey key) {
        return uses.getOrDefault(key, List.of());
    }

    /** Whether a static value flows into a shape, size or index input. */
    boolean feedsShapes(ValueKey key) {
        return feedsShapes.contains(key);
    }

    /** Whether a node is part of a static computation of shapes or indices. */
    boolean isShapeNode(NodeInfo node) {
        return shapeNodes.contains(node);
    }

    GraphInfo graph(GraphPath path) {
        return graphs.get(path);
    }

    List<GraphInfo> graphs() {
        return List.copyOf(graphs.values());
    }

    /** Every value and node name in the model, for making fresh ones. */
    Set<String> names() {
        return Collections.unmodifiableSet(names);
    }

    private void analyse(GraphPath path, GraphProto graph, Deque<Map<String, ValueKey>> scopes, NodeInfo owner,
            List<DataType> inputHints) {
        Map<String, DataType> declared = new HashMap<>();
        for (ValueInfoProto info : graph.getValueInfoList()) {
            declared.put(info.getName(), ElementTypes.declared(info));
        }
        graph.getOutputList().forEach(info -> declared.putIfAbsent(info.getName(), ElementTypes.declared(info)));

        Map<String, ValueKey> scope = new HashMap<>();
        Set<String> initializerNames = new HashSet<>();
        graph.getInitializerList().forEach(t -> initializerNames.add(t.getName()));
        List<ValueKey> inputs = new ArrayList<>();
        for (int i = 0; i < graph.getInputCount(); i++) {
            ValueInfoProto input = graph.getInput(i);
            ValueKey key = define(scope, path, input.getName());
            DataType type = ElementTypes.declared(input);
            if (type == DataType.UNDEFINED && i < inputHints.size()) {
                type = inputHints.get(i);
            }
            types.put(key, type);
            data.add(key);
            origins.put(key, initializerNames.contains(input.getName()) ? Origin.OVERRIDABLE : Origin.GRAPH_INPUT);
            inputs.add(key);
        }
        for (TensorProto initializer : graph.getInitializerList()) {
            if (scope.containsKey(initializer.getName())) {
                continue; // an overridable input, defined above
            }
            ValueKey key = define(scope, path, initializer.getName());
            types.put(key, DataType.of(initializer.getDataType()));
            origins.put(key, Origin.WEIGHT);
        }
        graph.getSparseInitializerList().forEach(sparse -> {
            ValueKey key = define(scope, path, sparse.getValues().getName());
            types.put(key, DataType.of(sparse.getValues().getDataType()));
            origins.put(key, Origin.SPARSE_WEIGHT);
        });
        for (NodeProto node : graph.getNodeList()) {
            names.add(node.getName());
            for (String output : node.getOutputList()) {
                if (!output.isEmpty()) {
                    define(scope, path, output);
                }
            }
        }

        scopes.push(scope);
        List<NodeInfo> nodes = new ArrayList<>();
        for (int n = 0; n < graph.getNodeCount(); n++) {
            nodes.add(analyseNode(path, n, graph.getNode(n), scopes, declared));
        }
        List<ValueKey> outputs = new ArrayList<>();
        for (ValueInfoProto output : graph.getOutputList()) {
            outputs.add(resolve(output.getName(), scopes));
        }
        scopes.pop();
        graphs.put(path, new GraphInfo(path, graph, owner, List.copyOf(inputs), Collections.unmodifiableList(outputs),
                List.copyOf(nodes)));
    }

    private NodeInfo analyseNode(GraphPath path, int n, NodeProto node, Deque<Map<String, ValueKey>> scopes,
            Map<String, DataType> declared) {
        List<ValueKey> inputKeys = new ArrayList<>();
        List<DataType> inputTypes = new ArrayList<>();
        boolean anyData = false;
        for (String input : node.getInputList()) {
            ValueKey key = input.isEmpty() ? null : resolve(input, scopes);
            inputKeys.add(key);
            inputTypes.add(type(key));
            anyData |= key != null && data.contains(key);
        }
        List<ValueKey> outputKeys = new ArrayList<>();
        for (String output : node.getOutputList()) {
            outputKeys.add(output.isEmpty() ? null : new ValueKey(path, output));
        }
        NodeInfo info = new NodeInfo(path, n, node, Collections.unmodifiableList(inputKeys),
                Collections.unmodifiableList(outputKeys));
        for (int i = 0; i < inputKeys.size(); i++) {
            if (inputKeys.get(i) != null) {
                uses.computeIfAbsent(inputKeys.get(i), k -> new ArrayList<>()).add(new Use(info, i));
            }
        }

        List<DataType> subgraphOutputs = analyseSubgraphs(path, n, node, scopes, info, inputTypes);
        List<DataType> outputTypes = ElementTypes.outputs(node, inputTypes, subgraphOutputs);
        boolean controlFlow = OpSupport.isIf(node) || OpSupport.isLoop(node);
        boolean isConstantWeight = node.getOpType().equals("Constant") && !outputKeys.isEmpty()
                && outputKeys.get(0) != null && indexedWeights.contains(outputKeys.get(0).ref());
        info.isStatic = !anyData && !controlFlow && !isRandom(node);
        boolean outputsData = !info.isStatic && !node.getOpType().equals("Shape") && !node.getOpType().equals("Size");
        for (int o = 0; o < outputKeys.size(); o++) {
            ValueKey key = outputKeys.get(o);
            if (key == null) {
                continue;
            }
            DataType type = outputTypes.get(o);
            if (type == DataType.UNDEFINED) {
                type = declared.getOrDefault(key.name(), DataType.UNDEFINED);
            }
            types.put(key, type);
            origins.put(key, isConstantWeight ? Origin.WEIGHT : Origin.NODE);
            producers.put(key, info);
            if (outputsData) {
                data.add(key);
            }
        }
        return info;
    }

    private List<DataType> analyseSubgraphs(GraphPath path, int n, NodeProto node, Deque<Map<String, ValueKey>> scopes,
            NodeInfo owner, List<DataType> inputTypes) {
        List<DataType> result = List.of();
        for (AttributeProto attribute : node.getAttributeList()) {
            List<GraphProto> subgraphs = new ArrayList<>();
            if (attribute.hasG()) {
                subgraphs.add(attribute.getG());
            }
            subgraphs.addAll(attribute.getGraphsList());
            for (int g = 0; g < subgraphs.size(); g++) {
                GraphPath child = path.child(n, node.getName(), attribute.getName(), g);
                analyse(child, subgraphs.get(g), scopes, owner, subgraphInputHints(node, inputTypes));
                if (attribute.getName().equals("then_branch") || attribute.getName().equals("body")) {
                    List<DataType> outputTypes = new ArrayList<>();
                    for (ValueKey output : graphs.get(child).outputs()) {
                        outputTypes.add(type(output));
                    }
                    // a declared output type wins over what the branch computes, as in ONNX
                    GraphProto sub = subgraphs.get(g);
                    for (int o = 0; o < sub.getOutputCount(); o++) {
                        DataType stated = ElementTypes.declared(sub.getOutput(o));
                        if (stated != DataType.UNDEFINED) {
                            outputTypes.set(o, stated);
                        }
                    }
                    result = outputTypes;
                }
            }
        }
        return result;
    }

    /** Types of a body's inputs where the body does not declare them: Loop (iteration, condition, carried), Scan. */
    private static List<DataType> subgraphInputHints(NodeProto node, List<DataType> inputTypes) {
        if (node.getOpType().equals("Loop")) {
            List<DataType> hints = new ArrayList<>(List.of(DataType.INT64, DataType.BOOL));
            hints.addAll(inputTypes.subList(Math.min(2, inputTypes.size()), inputTypes.size()));
            return hints;
        }
        if (node.getOpType().equals("Scan")) {
            return inputTypes;
        }
        return List.of();
    }

    private static boolean isRandom(NodeProto node) {
        return node.getOpType().startsWith("Random") || node.getOpType().equals("Multinomial")
                || node.getOpType().equals("Bernoulli");
    }

    private ValueKey define(Map<String, ValueKey> scope, GraphPath path, String name) {
        ValueKey key = new ValueKey(path, name);
        scope.put(name, key);
        names.add(name);
        return key;
    }

    private static ValueKey resolve(String name, Deque<Map<String, ValueKey>> scopes) {
        for (Map<String, ValueKey> scope : scopes) { // innermost first
            ValueKey key = scope.get(name);
            if (key != null) {
                return key;
            }
        }
        return null;
    }

    /**
     * Walks back from every input that takes a shape, size, index or fixed float32 (Resize scales)
     * through static nodes: those compute shapes from constants and input shapes and must stay
     * exact, so they are left in float32 as they are.
     */
    private void findShapeComputations() {
        Deque<ValueKey> work = new ArrayDeque<>();
        for (GraphInfo graph : graphs.values()) {
            for (NodeInfo node : graph.nodes()) {
                for (int i = 0; i < node.inputs.size(); i++) {
                    ValueKey key = node.inputs.get(i);
                    if (key == null) {
                        continue;
                    }
                    DataType type = type(key);
                    boolean indexLike = type != DataType.UNDEFINED && !type.isFloatingPoint();
                    boolean fixedFloat = ElementTypes.isDefaultDomain(node.node) && type.isFloatingPoint()
                            && OpSupport.inputRole(node.node, i) == OpSupport.Role.FIXED;
                    if ((indexLike || fixedFloat || OpSupport.isShapeInput(node.node, i)) && feedsShapes.add(key)) {
                        work.add(key);
                    }
                }
            }
        }
        while (!work.isEmpty()) {
            NodeInfo producer = producers.get(work.poll());
            if (producer == null || !producer.isStatic || !shapeNodes.add(producer)) {
                continue;
            }
            for (ValueKey input : producer.inputs) {
                if (input != null && feedsShapes.add(input)) {
                    work.add(input);
                }
            }
        }
    }
}

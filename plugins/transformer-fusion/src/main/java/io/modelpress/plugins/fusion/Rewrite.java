package io.modelpress.plugins.fusion;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * The edits one fusion pass makes to a graph: matched nodes removed, each fused node put where
 * its pattern ended, new weights added. {@link #applyTo} then drops what no output needs any more
 * and orders the nodes so that every node follows what it reads.
 */
final class Rewrite {

    private final Set<Integer> removed = new HashSet<>();
    private final Map<Integer, NodeProto> fused = new HashMap<>();
    private final Map<String, NodeProto> prelude = new LinkedHashMap<>();
    private final List<TensorProto> initializers = new ArrayList<>();

    /** Whether none of {@code nodes} is already part of another fusion. */
    boolean free(Iterable<Integer> nodes) {
        for (int node : nodes) {
            if (removed.contains(node)) {
                return false;
            }
        }
        return true;
    }

    /** Replaces {@code nodes} by {@code node}, placed where {@code anchor} was. */
    void fuse(Iterable<Integer> nodes, int anchor, NodeProto node) {
        nodes.forEach(removed::add);
        removed.add(anchor);
        fused.put(anchor, node);
    }

    /** A node that fused nodes share (the attention mask cast), placed first, added once per output name. */
    void prelude(NodeProto node) {
        prelude.putIfAbsent(node.getOutput(0), node);
    }

    void initializer(TensorProto tensor) {
        initializers.add(tensor);
    }

    GraphProto applyTo(GraphProto graph) {
        List<NodeProto> nodes = new ArrayList<>(prelude.values());
        for (int n = 0; n < graph.getNodeCount(); n++) {
            if (fused.containsKey(n)) {
                nodes.add(fused.get(n));
            } else if (!removed.contains(n)) {
                nodes.add(graph.getNode(n));
            }
        }
        List<TensorProto> allInitializers = new ArrayList<>(graph.getInitializerList());
        allInitializers.addAll(initializers);
        return tidy(graph.toBuilder().clearNode().addAllNode(nodes).clearInitializer().addAllInitializer(allInitializers)
                .build());
    }

    /**
     * Keeps the nodes the graph outputs depend on, in an order where each follows its inputs'
     * producers, and the initializers and value infos they still use. Main graphs of encoders have
     * no subgraphs, so this works on one graph level.
     */
    static GraphProto tidy(GraphProto graph) {
        Map<String, Integer> producer = new HashMap<>();
        for (int n = 0; n < graph.getNodeCount(); n++) {
            for (String output : graph.getNode(n).getOutputList()) {
                producer.put(output, n);
            }
        }
        boolean[] live = new boolean[graph.getNodeCount()];
        Deque<String> needed = new ArrayDeque<>();
        graph.getOutputList().forEach(o -> needed.add(o.getName()));
        Set<String> used = new HashSet<>();
        while (!needed.isEmpty()) {
            String value = needed.pop();
            if (!used.add(value)) {
                continue;
            }
            Integer n = producer.get(value);
            if (n != null && !live[n]) {
                live[n] = true;
                graph.getNode(n).getInputList().forEach(needed::add);
            }
        }
        List<NodeProto> ordered = topological(graph, live, producer);
        Set<String> produced = new HashSet<>();
        ordered.forEach(node -> produced.addAll(node.getOutputList()));
        Set<String> inputs = new HashSet<>();
        graph.getInputList().forEach(v -> inputs.add(v.getName()));
        List<TensorProto> initializers = graph.getInitializerList().stream()
                .filter(t -> used.contains(t.getName()) || inputs.contains(t.getName())).toList();
        List<ValueInfoProto> infos = graph.getValueInfoList().stream()
                .filter(v -> produced.contains(v.getName())).toList();
        return graph.toBuilder().clearNode().addAllNode(ordered).clearInitializer().addAllInitializer(initializers)
                .clearValueInfo().addAllValueInfo(infos).build();
    }

    /** Kahn's order over the live nodes, stable: among ready nodes the earliest in the list comes first. */
    private static List<NodeProto> topological(GraphProto graph, boolean[] live, Map<String, Integer> producer) {
        int count = graph.getNodeCount();
        int[] waiting = new int[count];
        List<List<Integer>> dependents = new ArrayList<>();
        for (int n = 0; n < count; n++) {
            dependents.add(new ArrayList<>());
        }
        for (int n = 0; n < count; n++) {
            if (!live[n]) {
                continue;
            }
            Set<Integer> sources = new HashSet<>();
            for (String input : graph.getNode(n).getInputList()) {
                Integer source = producer.get(input);
                if (source != null && source != n && sources.add(source)) {
                    dependents.get(source).add(n);
                    waiting[n]++;
                }
            }
        }
        PriorityQueue<Integer> ready = new PriorityQueue<>();
        for (int n = 0; n < count; n++) {
            if (live[n] && waiting[n] == 0) {
                ready.add(n);
            }
        }
        List<NodeProto> ordered = new ArrayList<>();
        while (!ready.isEmpty()) {
            int n = ready.poll();
            ordered.add(graph.getNode(n));
            for (int dependent : dependents.get(n)) {
                if (--waiting[dependent] == 0) {
                    ready.add(dependent);
                }
            }
        }
        return ordered;
    }
}

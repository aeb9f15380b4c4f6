package io.modelpress.plugins.optimize;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import io.modelpress.model.GraphPath;
import io.modelpress.model.Graphs;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Weight;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Stores once the weights that ONNX Runtime's constant folding copied into several subgraphs.
 * When a weight of the main graph is read inside If branches or a Loop body, the optimiser folds
 * each subgraph on its own and writes the folded result into each of them: the model grows by
 * one copy per subgraph. Identical subgraph initializers (type, shape and bytes) are moved to
 * one main-graph initializer, which every subgraph reads through ONNX's outer scope.
 */
final class SharedWeights {

    /** Copies smaller than this stay where they are: moving them saves too little. */
    static final int MIN_BYTES = 1024;

    private record TensorKey(int type, List<Long> dims, ByteString data) {
        static TensorKey of(TensorProto tensor) {
            return new TensorKey(tensor.getDataType(), tensor.getDimsList(), tensor.getRawData());
        }
    }

    /** The model with shared copies stored once, and how many subgraph copies were removed. */
    record Hoisted(OnnxModel model, int copiesRemoved, long bytesSaved) {
    }

    private SharedWeights() {
    }

    static Hoisted hoist(OnnxModel model) {
        Map<String, Integer> definitions = definitions(model.proto());
        Map<TensorKey, List<Weight>> groups = new LinkedHashMap<>();
        for (Weight weight : model.weights().all()) {
            if (weight.storage() != Weight.Storage.INITIALIZER || weight.bytes() < MIN_BYTES) {
                continue;
            }
            TensorProto tensor = model.weights().tensor(weight.ref());
            if (tensor.hasRawData()) {
                groups.computeIfAbsent(TensorKey.of(tensor), key -> new ArrayList<>()).add(weight);
            }
        }
        Map<GraphPath, Set<String>> removed = new HashMap<>();
        Map<GraphPath, Map<Integer, Map<Integer, String>>> inputEdits = new HashMap<>();
        List<TensorProto> added = new ArrayList<>();
        Set<String> taken = new HashSet<>(definitions.keySet());
        int copies = 0;
        long saved = 0;
        for (List<Weight> group : groups.values()) {
            List<Weight> inSubgraphs = group.stream().filter(w -> !w.ref().graph().isMain()
                    && !isSubgraphOutput(model.proto(), w)).toList();
            if (group.size() < 2 || inSubgraphs.isEmpty()) {
                continue;
            }
            // a main-graph copy that no subgraph shadows can be read as it is; otherwise a fresh name
            String canonical = group.stream().filter(w -> w.ref().graph().isMain()
                    && definitions.getOrDefault(w.name(), 0) == 1).map(Weight::name).findFirst().orElse(null);
            if (canonical == null) {
                canonical = fresh(inSubgraphs.get(0).name(), taken);
                added.add(model.weights().tensor(inSubgraphs.get(0).ref()).toBuilder().setName(canonical).build());
                saved -= inSubgraphs.get(0).bytes();
            }
            for (Weight copy : inSubgraphs) {
                removed.computeIfAbsent(copy.ref().graph(), g -> new HashSet<>()).add(copy.name());
                for (Weight.Use use : copy.uses()) {
                    inputEdits.computeIfAbsent(use.graph(), g -> new HashMap<>())
                            .computeIfAbsent(use.nodeIndex(), n -> new HashMap<>()).put(use.inputIndex(), canonical);
                }
                copies++;
                saved += copy.bytes();
            }
        }
        if (copies == 0 || saved <= 0) {
            return new Hoisted(model, 0, 0);
        }
        ModelProto rewritten = Graphs.rewrite(model.proto(), (path, graph) -> {
            GraphProto.Builder builder = graph.toBuilder();
            Set<String> gone = removed.getOrDefault(path, Set.of());
            if (!gone.isEmpty()) {
                builder.clearInitializer();
                graph.getInitializerList().stream().filter(t -> !gone.contains(t.getName())).forEach(builder::addInitializer);
            }
            inputEdits.getOrDefault(path, Map.of()).forEach((nodeIndex, inputs) -> {
                NodeProto.Builder node = builder.getNode(nodeIndex).toBuilder();
                inputs.forEach(node::setInput);
                builder.setNode(nodeIndex, node);
            });
            if (path.isMain()) {
                builder.addAllInitializer(added);
            }
            return builder.build();
        });
        return new Hoisted(model.withProto(rewritten), copies, saved);
    }

    /** How often each value name is defined (graph input, initializer, node output) over all graphs. */
    private static Map<String, Integer> definitions(ModelProto model) {
        Map<String, Integer> counts = new HashMap<>();
        Graphs.forEach(model, (path, graph) -> {
            graph.getInputList().forEach(v -> counts.merge(v.getName(), 1, Integer::sum));
            graph.getInitializerList().stream().filter(t -> graph.getInputList().stream()
                    .noneMatch(v -> v.getName().equals(t.getName()))).forEach(t -> counts.merge(t.getName(), 1, Integer::sum));
            graph.getNodeList().forEach(node -> node.getOutputList().forEach(o -> counts.merge(o, 1, Integer::sum)));
        });
        return counts;
    }

    /** A subgraph that returns the initializer itself must keep it. */
    private static boolean isSubgraphOutput(ModelProto model, Weight weight) {
        boolean[] output = new boolean[1];
        Graphs.forEach(model, (path, graph) -> {
            if (path.equals(weight.ref().graph())) {
                for (ValueInfoProto value : graph.getOutputList()) {
                    output[0] |= value.getName().equals(weight.name());
                }
            }
        });
        return output[0];
    }

    private static String fresh(String base, Set<String> taken) {
        String name = base;
        for (int i = 1; !taken.add(name); i++) {
            name = base + "_shared" + (i == 1 ? "" : "_" + i);
        }
        return name;
    }
}

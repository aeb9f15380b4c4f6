package io.modelpress.plugins.cleanup;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.modelpress.model.GraphPath;
import io.modelpress.model.Graphs;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.OptionSpec;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.PluginSpi;
import io.modelpress.spi.Technique;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A lossless clean-up that exported graphs usually need: nodes whose results nothing reads,
 * initializers nobody uses, and identical weights stored twice (tied embeddings, repeated
 * constants). Works in every graph, subgraphs included, and never changes inputs or outputs.
 */
public final class GraphCleanupPlugin implements CompressionPlugin {

    static final String DEAD_NODES = "dead-nodes";
    static final String UNUSED_INITIALIZERS = "unused-initializers";
    static final String DEDUPLICATE = "deduplicate";
    static final String DEDUPLICATE_MIN_BYTES = "deduplicate-min-bytes";

    @Override
    public String id() {
        return "graph-cleanup";
    }

    @Override
    public String version() {
        return "1.0.0";
    }

    @Override
    public int spiVersion() {
        return PluginSpi.VERSION;
    }

    @Override
    public Technique technique() {
        return Technique.GRAPH_OPTIMIZATION;
    }

    @Override
    public String description() {
        return "Removes dead nodes and unused initializers and merges duplicate weights, losslessly";
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(
                OptionSpec.flag(DEAD_NODES, true, "remove nodes whose outputs no graph output depends on"),
                OptionSpec.flag(UNUSED_INITIALIZERS, true, "remove initializers no node reads"),
                OptionSpec.flag(DEDUPLICATE, true, "store identical main-graph weights once"),
                OptionSpec.integer(DEDUPLICATE_MIN_BYTES, 1024, 1, Integer.MAX_VALUE,
                        "smallest weight, in bytes, worth merging with its twin"));
    }

    @Override
    public PluginResult apply(OnnxModel model, PluginOptions options, PluginContext context) {
        ModelProto proto = model.proto();
        Counts counts = new Counts();
        if (options.flag(DEDUPLICATE)) {
            context.progress(0.1, "merging duplicate weights");
            proto = Deduplicator.merge(model, options.intValue(DEDUPLICATE_MIN_BYTES), counts);
        }
        context.checkCancelled();
        if (options.flag(DEAD_NODES) || options.flag(UNUSED_INITIALIZERS)) {
            context.progress(0.5, "removing dead nodes and unused initializers");
            Pruner pruner = new Pruner(options.flag(DEAD_NODES), options.flag(UNUSED_INITIALIZERS), counts);
            proto = proto.toBuilder().setGraph(pruner.clean(proto.getGraph(), true).graph()).build();
        }
        OnnxModel cleaned = model.withProto(proto);
        PluginResult.Builder result = PluginResult.builder(cleaned)
                .figure("nodes-removed", counts.nodes)
                .figure("initializers-removed", counts.initializers)
                .figure("weights-merged", counts.merged)
                .figure("bytes-saved", model.serializedSize() - cleaned.serializedSize());
        if (counts.nodes + counts.initializers + counts.merged == 0) {
            result.change("nothing to clean: every node and weight is used and no weight is stored twice");
        } else {
            counts.details.forEach(result::change);
        }
        return result.build();
    }

    /** What was removed, for the report. */
    static final class Counts {
        int nodes;
        int initializers;
        int merged;
        final List<String> details = new ArrayList<>();
    }

    /** Liveness from the outputs back, graph by graph; a subgraph's reads of outer names keep them alive. */
    static final class Pruner {
        private final boolean deadNodes;
        private final boolean unusedInitializers;
        private final Counts counts;

        Pruner(boolean deadNodes, boolean unusedInitializers, Counts counts) {
            this.deadNodes = deadNodes;
            this.unusedInitializers = unusedInitializers;
            this.counts = counts;
        }

        record Cleaned(GraphProto graph, Set<String> outerReads) {
        }

        Cleaned clean(GraphProto graph, boolean isMain) {
            Set<String> needed = new HashSet<>();
            graph.getOutputList().forEach(output -> needed.add(output.getName()));
            List<NodeProto> kept = new ArrayList<>();
            for (int n = graph.getNodeCount() - 1; n >= 0; n--) {
                NodeProto node = graph.getNode(n);
                boolean live = !deadNodes || node.getOutputCount() == 0
                        || node.getOutputList().stream().anyMatch(needed::contains);
                if (!live) {
                    counts.nodes++;
                    counts.details.add("removed dead node " + describe(node));
                    continue;
                }
                NodeProto.Builder builder = node.toBuilder();
                for (int a = 0; a < node.getAttributeCount(); a++) {
                    AttributeProto attribute = node.getAttribute(a);
                    if (!Graphs.hasSubgraph(attribute)) {
                        continue;
                    }
                    AttributeProto.Builder rebuilt = attribute.toBuilder();
                    if (attribute.hasG()) {
                        Cleaned sub = clean(attribute.getG(), false);
                        rebuilt.setG(sub.graph());
                        needed.addAll(sub.outerReads());
                    }
                    for (int g = 0; g < attribute.getGraphsCount(); g++) {
                        Cleaned sub = clean(attribute.getGraphs(g), false);
                        rebuilt.setGraphs(g, sub.graph());
                        needed.addAll(sub.outerReads());
                    }
                    builder.setAttribute(a, rebuilt);
                }
                needed.addAll(node.getInputList());
                kept.add(0, builder.build());
            }
            Set<String> graphInputs = new HashSet<>();
            graph.getInputList().forEach(input -> graphInputs.add(input.getName()));
            List<TensorProto> initializers = new ArrayList<>();
            for (TensorProto initializer : graph.getInitializerList()) {
                // An initializer that is also a graph input is an overridable input: part of the signature.
                if (unusedInitializers && !needed.contains(initializer.getName()) && !graphInputs.contains(initializer.getName())) {
                    counts.initializers++;
                    counts.details.add("removed unused initializer '" + initializer.getName() + "' ("
                            + Tensors.byteSize(initializer) + " bytes)");
                } else {
                    initializers.add(initializer);
                }
            }
            GraphProto cleaned = graph.toBuilder().clearNode().addAllNode(kept)
                    .clearInitializer().addAllInitializer(initializers)
                    .clearValueInfo().addAllValueInfo(liveValueInfo(graph, kept)).build();
            Set<String> defined = new HashSet<>(graphInputs);
            initializers.forEach(t -> defined.add(t.getName()));
            kept.forEach(node -> defined.addAll(node.getOutputList()));
            Set<String> outerReads = new HashSet<>(needed);
            outerReads.removeAll(defined);
            outerReads.remove("");
            return new Cleaned(cleaned, outerReads);
        }

        private static List<ValueInfoProto> liveValueInfo(GraphProto graph, List<NodeProto> kept) {
            Set<String> produced = new HashSet<>();
            kept.forEach(node -> produced.addAll(node.getOutputList()));
            return graph.getValueInfoList().stream().filter(info -> produced.contains(info.getName())).toList();
        }

        private static String describe(NodeProto node) {
            return (node.getName().isEmpty() ? "(unnamed)" : "'" + node.getName() + "'") + " (" + node.getOpType() + ")";
        }
    }

    /** Merges main-graph initializers with the same type, shape and bytes; uses are renamed where they resolve. */
    static final class Deduplicator {

        static ModelProto merge(OnnxModel model, int minBytes, Counts counts) {
            ModelProto proto = model.proto();
            GraphProto main = proto.getGraph();
            Set<String> signature = new HashSet<>();
            main.getInputList().forEach(v -> signature.add(v.getName()));
            main.getOutputList().forEach(v -> signature.add(v.getName()));
            Map<TensorKey, String> first = new HashMap<>();
            Map<String, String> renamed = new HashMap<>();
            for (TensorProto initializer : main.getInitializerList()) {
                if (!initializer.hasRawData() || initializer.getRawData().size() < minBytes
                        || signature.contains(initializer.getName())) {
                    continue;
                }
                TensorKey key = new TensorKey(initializer.getDataType(), initializer.getDimsList(), initializer.getRawData());
                String canonical = first.putIfAbsent(key, initializer.getName());
                if (canonical != null) {
                    renamed.put(initializer.getName(), canonical);
                    counts.merged++;
                    counts.details.add("weight '" + initializer.getName() + "' is identical to '" + canonical
                            + "': stored once");
                }
            }
            if (renamed.isEmpty()) {
                return proto;
            }
            Map<GraphPath, Map<Integer, Map<Integer, String>>> edits = new HashMap<>();
            for (Weight weight : model.weights().all()) {
                String target = weight.ref().graph().isMain() ? renamed.get(weight.name()) : null;
                if (target == null) {
                    continue;
                }
                for (Weight.Use use : weight.uses()) {
                    edits.computeIfAbsent(use.graph(), g -> new HashMap<>())
                            .computeIfAbsent(use.nodeIndex(), n -> new HashMap<>())
                            .put(use.inputIndex(), target);
                }
            }
            return Graphs.rewrite(proto, (path, graph) -> {
                Map<Integer, Map<Integer, String>> here = edits.get(path);
                if (here == null) {
                    return graph;
                }
                GraphProto.Builder builder = graph.toBuilder();
                here.forEach((nodeIndex, inputs) -> {
                    NodeProto.Builder node = builder.getNode(nodeIndex).toBuilder();
                    inputs.forEach(node::setInput);
                    builder.setNode(nodeIndex, node);
                });
                return builder.build();
            });
        }

        private record TensorKey(int type, List<Long> dims, com.google.protobuf.ByteString data) {
        }
    }

}

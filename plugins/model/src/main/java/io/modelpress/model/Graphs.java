package io.modelpress.model;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;

/** Walks and rewrites every graph of a model: the main graph and all subgraphs, however deep. */
public final class Graphs {

    private Graphs() {
    }

    /** Visits every graph, parents before their subgraphs. */
    public static void forEach(ModelProto model, BiConsumer<GraphPath, GraphProto> visitor) {
        visit(GraphPath.MAIN, model.getGraph(), visitor);
    }

    /**
     * Rewrites every graph bottom-up: subgraphs are rewritten first and put back into their nodes,
     * then {@code rewrite} sees the parent. Graphs the function returns unchanged are not rebuilt.
     */
    public static ModelProto rewrite(ModelProto model, BiFunction<GraphPath, GraphProto, GraphProto> rewrite) {
        GraphProto main = rewrite(GraphPath.MAIN, model.getGraph(), rewrite);
        return main == model.getGraph() ? model : model.toBuilder().setGraph(main).build();
    }

    public static boolean hasSubgraph(AttributeProto attribute) {
        return attribute.hasG() || attribute.getGraphsCount() > 0;
    }

    private static void visit(GraphPath path, GraphProto graph, BiConsumer<GraphPath, GraphProto> visitor) {
        visitor.accept(path, graph);
        for (int n = 0; n < graph.getNodeCount(); n++) {
            NodeProto node = graph.getNode(n);
            for (AttributeProto attribute : node.getAttributeList()) {
                if (attribute.hasG()) {
                    visit(path.child(n, node.getName(), attribute.getName(), 0), attribute.getG(), visitor);
                }
                for (int g = 0; g < attribute.getGraphsCount(); g++) {
                    visit(path.child(n, node.getName(), attribute.getName(), g), attribute.getGraphs(g), visitor);
                }
            }
        }
    }

    private static GraphProto rewrite(GraphPath path, GraphProto graph,
            BiFunction<GraphPath, GraphProto, GraphProto> rewrite) {
        GraphProto.Builder builder = null;
        for (int n = 0; n < graph.getNodeCount(); n++) {
            NodeProto node = graph.getNode(n);
            NodeProto.Builder nodeBuilder = null;
            for (int a = 0; a < node.getAttributeCount(); a++) {
                AttributeProto attribute = node.getAttribute(a);
                if (!hasSubgraph(attribute)) {
                    continue;
                }
                AttributeProto rewritten = rewriteAttribute(path, n, node.getName(), attribute, rewrite);
                if (rewritten != attribute) {
                    if (nodeBuilder == null) {
                        nodeBuilder = node.toBuilder();
                    }
                    nodeBuilder.setAttribute(a, rewritten);
                }
            }
            if (nodeBuilder != null) {
                if (builder == null) {
                    builder = graph.toBuilder();
                }
                builder.setNode(n, nodeBuilder);
            }
        }
        GraphProto withSubgraphs = builder == null ? graph : builder.build();
        return rewrite.apply(path, withSubgraphs);
    }

    private static AttributeProto rewriteAttribute(GraphPath path, int nodeIndex, String nodeName,
            AttributeProto attribute, BiFunction<GraphPath, GraphProto, GraphProto> rewrite) {
        AttributeProto.Builder builder = null;
        if (attribute.hasG()) {
            GraphProto sub = rewrite(path.child(nodeIndex, nodeName, attribute.getName(), 0), attribute.getG(), rewrite);
            if (sub != attribute.getG()) {
                builder = attribute.toBuilder().setG(sub);
            }
        }
        for (int g = 0; g < attribute.getGraphsCount(); g++) {
            GraphProto original = attribute.getGraphs(g);
            GraphProto sub = rewrite(path.child(nodeIndex, nodeName, attribute.getName(), g), original, rewrite);
            if (sub != original) {
                if (builder == null) {
                    builder = attribute.toBuilder();
                }
                builder.setGraphs(g, sub);
            }
        }
        return builder == null ? attribute : builder.build();
    }
}

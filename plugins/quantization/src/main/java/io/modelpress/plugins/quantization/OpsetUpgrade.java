package io.modelpress.plugins.quantization;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import io.modelpress.model.Graphs;
import io.modelpress.model.Nodes;
import io.modelpress.model.Tensors;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Raises a model's default opset from below 10 to 10, where the integer kernels ONNX Runtime
 * fuses QDQ groups into (QLinearConv, QLinearMatMul) exist. Only done when it keeps the meaning
 * of every node: Slice, whose bounds move from attributes to inputs at 10, is rewritten; a model
 * with another operator that changed at 10 (TopK, Upsample) is not raised at all.
 */
final class OpsetUpgrade {

    static final int TARGET = 10;
    private static final Set<String> CHANGED_AT_10 = Set.of("TopK", "Upsample");

    private OpsetUpgrade() {
    }

    /** Why the model cannot be raised, or empty. */
    static Optional<String> obstacle(ModelProto model) {
        Set<String> found = new HashSet<>();
        Graphs.forEach(model, (path, graph) -> graph.getNodeList().stream()
                .filter(node -> node.getDomain().isEmpty() && CHANGED_AT_10.contains(node.getOpType()))
                .forEach(node -> found.add(node.getOpType())));
        return found.isEmpty() ? Optional.empty()
                : Optional.of("its " + String.join(", ", found) + " nodes change meaning at opset " + TARGET);
    }

    static ModelProto toOpset10(ModelProto model) {
        Set<String> names = new HashSet<>();
        Graphs.forEach(model, (path, graph) -> graph.getNodeList().forEach(node -> {
            names.addAll(node.getOutputList());
            names.add(node.getName());
        }));
        AtomicInteger counter = new AtomicInteger();
        ModelProto rewritten = Graphs.rewrite(model, (path, graph) -> rewriteSlices(graph, names, counter));
        ModelProto.Builder builder = rewritten.toBuilder().clearOpsetImport();
        for (OperatorSetIdProto opset : rewritten.getOpsetImportList()) {
            boolean main = opset.getDomain().isEmpty() || opset.getDomain().equals("ai.onnx");
            builder.addOpsetImport(main ? opset.toBuilder().setVersion(Math.max(TARGET, opset.getVersion())).build() : opset);
        }
        return builder.build();
    }

    private static GraphProto rewriteSlices(GraphProto graph, Set<String> names, AtomicInteger counter) {
        boolean any = graph.getNodeList().stream().anyMatch(n -> n.getOpType().equals("Slice") && n.getDomain().isEmpty());
        if (!any) {
            return graph;
        }
        GraphProto.Builder builder = graph.toBuilder().clearNode();
        for (NodeProto node : graph.getNodeList()) {
            if (!node.getOpType().equals("Slice") || !node.getDomain().isEmpty() || node.getInputCount() != 1) {
                builder.addNode(node);
                continue;
            }
            List<String> inputs = new ArrayList<>(List.of(node.getInput(0)));
            for (String attribute : List.of("starts", "ends", "axes")) {
                Optional<AttributeProto> value = Nodes.attribute(node, attribute);
                if (value.isEmpty()) {
                    continue;
                }
                long[] values = value.get().getIntsList().stream().mapToLong(Long::longValue).toArray();
                String name = unique(node.getOutput(0) + "_" + attribute, names, counter);
                builder.addNode(Nodes.node("Constant", name + "_const", List.of(), List.of(name),
                        Nodes.attr("value", Tensors.ofInt64("", new long[] {values.length}, values))));
                inputs.add(name);
            }
            builder.addNode(node.toBuilder().clearAttribute().clearInput().addAllInput(inputs));
        }
        return builder.build();
    }

    private static String unique(String base, Set<String> names, AtomicInteger counter) {
        String name = base;
        while (!names.add(name)) {
            name = base + "_" + counter.incrementAndGet();
        }
        return name;
    }
}

package io.modelpress.plugins.lowrank;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.model.GraphPath;
import io.modelpress.model.Graphs;
import io.modelpress.model.Nodes;
import io.modelpress.model.Tensors;
import io.modelpress.model.ValueNames;
import io.modelpress.model.Weight;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Puts factored layers into a model: each layer's node becomes two nodes (the first applies the
 * factor nearer the input, the second the other factor and the bias), and the weight is replaced,
 * where it was defined and in the same storage (initializer or Constant node), by the two factors.
 */
final class FactorWriter {

    /**
     * One layer's change.
     *
     * @param layer the layer
     * @param tensors the factors, named, to define where the weight was
     * @param nodes the nodes that replace the layer's node
     */
    record Edit(Layer layer, List<TensorProto> tensors, List<NodeProto> nodes) {
        Edit {
            Objects.requireNonNull(layer, "layer is null");
            tensors = List.copyOf(tensors);
            nodes = List.copyOf(nodes);
        }
    }

    private FactorWriter() {
    }

    /** The edit that replaces {@code layer} with {@code factors} (first: rows × rank, second: rank × cols). */
    static Edit edit(Layer layer, TruncatedSvd.Factors factors, ValueNames names) {
        NodeProto node = layer.node();
        String weight = layer.weight().name();
        String inName = names.fresh(weight + "_factor_in");
        String outName = names.fresh(weight + "_factor_out");
        String middle = names.fresh(node.getOutput(0) + "_lowrank");
        String firstNodeName = node.getName().isEmpty() ? "" : node.getName() + "_factor_in";
        int r = factors.rank();
        return switch (layer.kind()) {
            case MATMUL -> new Edit(layer,
                    List.of(Tensors.ofFloats(inName, new long[] {layer.rows(), r}, factors.first()),
                            Tensors.ofFloats(outName, new long[] {r, layer.cols()}, factors.second())),
                    List.of(Nodes.node("MatMul", firstNodeName, List.of(node.getInput(0), inName), List.of(middle)),
                            node.toBuilder().setInput(0, middle).setInput(1, outName).build()));
            case GEMM -> gemm(layer, factors, inName, outName, middle, firstNodeName);
            case CONV -> conv(layer, factors, inName, outName, middle, firstNodeName);
        };
    }

    /**
     * Y = alpha·A'·W + beta·C becomes T = A·(alpha·P) and Y = T·Q + beta·C: alpha folds into the
     * first factor and the bias stays on the second node, which keeps the original's other attributes.
     */
    private static Edit gemm(Layer layer, TruncatedSvd.Factors factors, String inName, String outName, String middle,
            String firstNodeName) {
        NodeProto node = layer.node();
        float alpha = Nodes.floatAttribute(node, "alpha", 1f);
        boolean transA = Nodes.intAttribute(node, "transA", 0) != 0;
        float[] first = factors.first();
        NodeProto firstNode;
        if (transA) {
            // MatMul cannot transpose its input; Gemm without C needs opset 11 (checked by the finder).
            firstNode = Nodes.node("Gemm", firstNodeName, List.of(node.getInput(0), inName), List.of(middle),
                    Nodes.attr("transA", 1L), Nodes.attr("alpha", alpha));
        } else {
            if (alpha != 1f) {
                first = first.clone();
                for (int i = 0; i < first.length; i++) {
                    first[i] *= alpha;
                }
            }
            firstNode = Nodes.node("MatMul", firstNodeName, List.of(node.getInput(0), inName), List.of(middle));
        }
        int r = factors.rank();
        boolean hasBias = node.getInputCount() > 2 && !node.getInput(2).isEmpty();
        NodeProto secondNode;
        if (hasBias) {
            NodeProto.Builder gemm = node.toBuilder().clearAttribute().setInput(0, middle).setInput(1, outName);
            for (AttributeProto attribute : node.getAttributeList()) {
                switch (attribute.getName()) {
                    case "alpha", "transA", "transB" -> {
                    }
                    default -> gemm.addAttribute(attribute);
                }
            }
            secondNode = gemm.build();
        } else {
            secondNode = Nodes.node("MatMul", node.getName(), List.of(middle, outName), node.getOutputList());
        }
        return new Edit(layer,
                List.of(Tensors.ofFloats(inName, new long[] {layer.rows(), r}, first),
                        Tensors.ofFloats(outName, new long[] {r, layer.cols()}, factors.second())),
                List.of(firstNode, secondNode));
    }

    /**
     * A Conv with C_out filters of C_in × k becomes a Conv with r such filters (same strides, pads
     * and dilations) followed by a 1×1 Conv with C_out filters and the bias. The matrix is
     * C_out × (C_in·k) = P·Q, so the first Conv's filters are the rows of Q and the 1×1 Conv's P.
     */
    private static Edit conv(Layer layer, TruncatedSvd.Factors factors, String inName, String outName, String middle,
            String firstNodeName) {
        NodeProto node = layer.node();
        long[] dims = layer.weight().dims();
        int r = factors.rank();
        long[] firstDims = dims.clone();
        firstDims[0] = r;
        long[] secondDims = new long[dims.length];
        Arrays.fill(secondDims, 1);
        secondDims[0] = dims[0];
        secondDims[1] = r;
        long[] ones = new long[dims.length - 2];
        Arrays.fill(ones, 1);
        NodeProto firstNode = node.toBuilder().setName(firstNodeName).clearInput()
                .addInput(node.getInput(0)).addInput(inName).setOutput(0, middle).build();
        NodeProto.Builder second = NodeProto.newBuilder().setOpType("Conv").setName(node.getName())
                .addInput(middle).addInput(outName);
        if (node.getInputCount() > 2 && !node.getInput(2).isEmpty()) {
            second.addInput(node.getInput(2));
        }
        second.addAllOutput(node.getOutputList()).addAttribute(Nodes.attr("kernel_shape", ones));
        return new Edit(layer,
                List.of(Tensors.ofFloats(inName, firstDims, factors.second()),
                        Tensors.ofFloats(outName, secondDims, factors.first())),
                List.of(firstNode, second.build()));
    }

    /** A copy of {@code model} with every edit made. */
    static ModelProto apply(ModelProto model, List<Edit> edits) {
        Map<GraphPath, Map<Integer, List<NodeProto>>> replacements = new HashMap<>();
        Map<GraphPath, Map<String, List<TensorProto>>> definitions = new HashMap<>();
        for (Edit edit : edits) {
            Weight.Use use = edit.layer().use();
            Weight.Ref ref = edit.layer().weight().ref();
            replacements.computeIfAbsent(use.graph(), g -> new HashMap<>()).put(use.nodeIndex(), edit.nodes());
            definitions.computeIfAbsent(ref.graph(), g -> new HashMap<>()).put(ref.name(), edit.tensors());
        }
        Set<Weight.Ref> defined = new HashSet<>();
        ModelProto result = Graphs.rewrite(model, (path, graph) -> {
            Map<Integer, List<NodeProto>> nodes = replacements.getOrDefault(path, Map.of());
            Map<String, List<TensorProto>> tensors = definitions.getOrDefault(path, Map.of());
            if (nodes.isEmpty() && tensors.isEmpty()) {
                return graph;
            }
            return rewrite(path, graph, nodes, tensors, defined);
        });
        if (defined.size() != edits.size()) {
            throw new IllegalStateException("only " + defined.size() + " of " + edits.size() + " factored weights were found");
        }
        return result;
    }

    private static GraphProto rewrite(GraphPath path, GraphProto graph, Map<Integer, List<NodeProto>> nodes,
            Map<String, List<TensorProto>> tensors, Set<Weight.Ref> defined) {
        GraphProto.Builder builder = graph.toBuilder().clearNode().clearInitializer().clearValueInfo();
        for (int n = 0; n < graph.getNodeCount(); n++) {
            NodeProto node = graph.getNode(n);
            List<TensorProto> factors = isConstant(node) ? tensors.get(node.getOutput(0)) : null;
            if (factors != null) {
                defined.add(new Weight.Ref(path, node.getOutput(0)));
                for (TensorProto factor : factors) {
                    builder.addNode(Nodes.node("Constant", factor.getName(), List.of(), List.of(factor.getName()),
                            Nodes.attr("value", factor)));
                }
            } else if (nodes.containsKey(n)) {
                builder.addAllNode(nodes.get(n));
            } else {
                builder.addNode(node);
            }
        }
        for (TensorProto initializer : graph.getInitializerList()) {
            List<TensorProto> factors = tensors.get(initializer.getName());
            if (factors != null) {
                defined.add(new Weight.Ref(path, initializer.getName()));
                builder.addAllInitializer(factors);
            } else {
                builder.addInitializer(initializer);
            }
        }
        // The replaced weights' declared shapes are stale; their names are gone.
        graph.getValueInfoList().stream().filter(info -> !tensors.containsKey(info.getName()))
                .forEach(builder::addValueInfo);
        return builder.build();
    }

    private static boolean isConstant(NodeProto node) {
        return node.getOpType().equals("Constant") && node.getDomain().isEmpty() && node.getOutputCount() == 1
                && Nodes.attribute(node, "value").map(AttributeProto::hasT).orElse(false);
    }
}

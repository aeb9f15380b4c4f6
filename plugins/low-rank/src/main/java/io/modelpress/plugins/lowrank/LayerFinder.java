package io.modelpress.plugins.lowrank;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import io.modelpress.model.DataType;
import io.modelpress.model.GraphPath;
import io.modelpress.model.Graphs;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Weight;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/** Finds the MatMul, Gemm and Conv weights of a model that can be factored, and says why others cannot. */
final class LayerFinder {

    /** A layer left as it was, with the reason. */
    record Skip(String part, String reason) {
    }

    /** What a scan found: layers to factor (in model order) and layers that cannot be. */
    record Scan(List<Layer> layers, List<Skip> skipped) {
        Scan {
            layers = List.copyOf(layers);
            skipped = List.copyOf(skipped);
        }
    }

    private LayerFinder() {
    }

    static Map<GraphPath, GraphProto> graphs(ModelProto model) {
        Map<GraphPath, GraphProto> graphs = new HashMap<>();
        Graphs.forEach(model, graphs::put);
        return graphs;
    }

    static Scan scan(OnnxModel model) {
        Map<GraphPath, GraphProto> graphs = graphs(model.proto());
        long opset = defaultOpset(model.proto());
        List<Layer> layers = new ArrayList<>();
        List<Skip> skipped = new ArrayList<>();
        for (Weight weight : model.weights().all()) {
            Optional<Weight.Use> layerUse = weight.uses().stream().filter(LayerFinder::isWeightInput).findFirst();
            if (layerUse.isEmpty()) {
                continue; // a bias, a shape, a norm scale: not a layer weight
            }
            Weight.Use use = layerUse.get();
            String part = Layer.describe(weight, use);
            NodeProto node = graphs.get(use.graph()).getNode(use.nodeIndex());
            String reason = unsupported(weight, node, graphs.get(weight.ref().graph()), opset);
            if (reason != null) {
                skipped.add(new Skip(part, reason));
                continue;
            }
            layers.add(layer(weight, use, node));
        }
        return new Scan(layers, skipped);
    }

    private static boolean isWeightInput(Weight.Use use) {
        if (!use.domain().isEmpty() || use.inputIndex() != 1) {
            return false;
        }
        return switch (use.opType()) {
            case "MatMul", "Gemm", "Conv" -> true;
            default -> false;
        };
    }

    /** Why this weight cannot be factored, or null when it can. */
    private static String unsupported(Weight weight, NodeProto node, GraphProto definingGraph, long opset) {
        if (weight.uses().size() > 1) {
            return "read by " + weight.uses().size() + " nodes ("
                    + weight.uses().stream().map(u -> u.opType()).distinct().collect(Collectors.joining(", "))
                    + "); only a weight read by a single layer is factored";
        }
        if (weight.type() != DataType.FLOAT) {
            return "weight of type " + weight.type().label() + "; only float32 weights are factored";
        }
        if (definingGraph.getInputList().stream().anyMatch(input -> input.getName().equals(weight.name()))) {
            return "the weight is also a graph input, so callers may override it";
        }
        switch (node.getOpType()) {
            case "MatMul" -> {
                if (weight.rank() != 2) {
                    return "weight of rank " + weight.rank() + "; only 2-D MatMul weights are factored";
                }
            }
            case "Gemm" -> {
                if (weight.rank() != 2) {
                    return "Gemm weight of rank " + weight.rank();
                }
                if (Nodes.intAttribute(node, "transA", 0) != 0 && opset < 11) {
                    return "Gemm with transA=1 needs opset 11 or later to be split (the model uses opset " + opset + ")";
                }
            }
            case "Conv" -> {
                long group = Nodes.intAttribute(node, "group", 1);
                if (group != 1) {
                    long[] dims = weight.dims();
                    String kind = dims.length > 1 && dims[1] == 1 ? "depthwise" : "grouped";
                    return kind + " convolution (group=" + group + "); only group=1 convolutions are decomposed";
                }
                if (weight.rank() < 3) {
                    return "Conv weight of rank " + weight.rank();
                }
            }
            default -> throw new IllegalStateException("not a layer: " + node.getOpType());
        }
        for (long dim : weight.dims()) {
            if (dim == 0) {
                return "the weight is empty";
            }
        }
        return null;
    }

    private static Layer layer(Weight weight, Weight.Use use, NodeProto node) {
        long[] dims = weight.dims();
        return switch (node.getOpType()) {
            case "MatMul" -> new Layer(weight, use, node, Layer.Kind.MATMUL, toInt(dims[0]), toInt(dims[1]));
            case "Gemm" -> Nodes.intAttribute(node, "transB", 0) != 0
                    ? new Layer(weight, use, node, Layer.Kind.GEMM, toInt(dims[1]), toInt(dims[0]))
                    : new Layer(weight, use, node, Layer.Kind.GEMM, toInt(dims[0]), toInt(dims[1]));
            default -> new Layer(weight, use, node, Layer.Kind.CONV, toInt(dims[0]),
                    toInt(weight.elements() / dims[0]));
        };
    }

    private static int toInt(long value) {
        return Math.toIntExact(value);
    }

    /** The version of the default ONNX operator set the model imports. */
    static long defaultOpset(ModelProto model) {
        for (OperatorSetIdProto opset : model.getOpsetImportList()) {
            if (opset.getDomain().isEmpty() || opset.getDomain().equals("ai.onnx")) {
                return opset.getVersion();
            }
        }
        return 1;
    }
}

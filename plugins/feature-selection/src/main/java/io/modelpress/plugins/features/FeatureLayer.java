package io.modelpress.plugins.features;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.modelpress.model.DataType;
import io.modelpress.model.Graphs;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Shapes;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.spi.PluginException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A flat feature input [N, F] of the main graph and the one MatMul or Gemm that reads it: the only
 * place its features go, so a feature can leave the input together with its row of the weight.
 *
 * @param input the graph input's name
 * @param features F, the fixed feature count
 * @param nodeIndex the layer's index in the main graph
 * @param node the MatMul or Gemm
 * @param weight the layer's weight (B of the product)
 * @param featuresAlongRows whether the stored weight is F × H (MatMul, Gemm with transB=0) rather than H × F
 * @param hidden H, the layer's output width
 */
record FeatureLayer(String input, int features, int nodeIndex, NodeProto node, Weight weight, boolean featuresAlongRows,
        int hidden) {

    FeatureLayer {
        Objects.requireNonNull(input, "input is null");
        Objects.requireNonNull(node, "node is null");
        Objects.requireNonNull(weight, "weight is null");
    }

    /** How reports name the layer. */
    String label() {
        String name = node.getName().isEmpty() ? "node #" + nodeIndex : "'" + node.getName() + "'";
        return name + " (" + node.getOpType() + ", weight '" + weight.name() + "' " + Shapes.format(weight.dims()) + ")";
    }

    /**
     * The weight as an F × H row-major matrix: row j holds what feature j adds to each output
     * (the Gemm's alpha not applied).
     */
    float[] matrix(OnnxModel model) {
        float[] stored = Tensors.toFloats(model.weights().tensor(weight.ref()));
        if (featuresAlongRows) {
            return stored;
        }
        float[] rows = new float[stored.length];
        for (int h = 0; h < hidden; h++) {
            for (int j = 0; j < features; j++) {
                rows[j * hidden + h] = stored[h * features + j];
            }
        }
        return rows;
    }

    /** The Gemm's alpha, 1 for a MatMul. */
    float alpha() {
        return node.getOpType().equals("Gemm") ? Nodes.floatAttribute(node, "alpha", 1f) : 1f;
    }

    /**
     * The flat feature input the plugin works on: the one named, or the only one the model has.
     *
     * @param named the input named by the user, empty for any
     * @throws PluginException "nothing to select" with the reason each input does not qualify
     */
    static FeatureLayer find(OnnxModel model, String named) throws PluginException {
        GraphProto graph = model.proto().getGraph();
        List<Verdict> verdicts = new ArrayList<>();
        for (ValueInfoProto input : graph.getInputList()) {
            if (isInitializer(graph, input.getName())) {
                continue; // an old-style model lists its weights as inputs too
            }
            if (named.isEmpty() || named.equals(input.getName())) {
                try {
                    verdicts.add(new Verdict(input.getName(), inspect(model, input), null));
                } catch (NotFlat reason) {
                    verdicts.add(new Verdict(input.getName(), null, reason.getMessage()));
                }
            }
        }
        if (!named.isEmpty() && verdicts.isEmpty()) {
            throw new PluginException("option 'input' names no input of this model: " + named + "; inputs: "
                    + graph.getInputList().stream().map(ValueInfoProto::getName)
                            .filter(name -> !isInitializer(graph, name)).collect(Collectors.joining(", ")));
        }
        List<FeatureLayer> found = verdicts.stream().map(Verdict::layer).filter(Objects::nonNull).toList();
        if (found.size() > 1) {
            throw new PluginException("the model has " + found.size() + " flat feature inputs ("
                    + found.stream().map(FeatureLayer::input).collect(Collectors.joining(", "))
                    + "); name one with option 'input'");
        }
        if (found.isEmpty()) {
            throw new PluginException("nothing to select: feature selection needs a float input [N, F] read only by"
                    + " one MatMul or Gemm, and " + verdicts.stream()
                            .map(verdict -> "input '" + verdict.input() + "' " + verdict.reason())
                            .collect(Collectors.joining("; ")));
        }
        return found.get(0);
    }

    /** What one graph input is: a flat feature input, or the reason it is none. */
    private record Verdict(String input, FeatureLayer layer, String reason) {
    }

    /** Why an input is no flat feature input. */
    private static final class NotFlat extends Exception {
        NotFlat(String reason) {
            super(reason, null, false, false);
        }
    }

    private static FeatureLayer inspect(OnnxModel model, ValueInfoProto input) throws NotFlat {
        TypeProto type = input.getType();
        if (!type.hasTensorType() || type.getTensorType().getElemType() != DataType.FLOAT.code()) {
            throw new NotFlat("is not a float32 tensor");
        }
        if (!type.getTensorType().hasShape() || type.getTensorType().getShape().getDimCount() != 2) {
            throw new NotFlat("has " + (type.getTensorType().hasShape()
                    ? "rank " + type.getTensorType().getShape().getDimCount() : "no declared shape")
                    + ", not [N, F]");
        }
        TensorShapeProto.Dimension featureDim = type.getTensorType().getShape().getDim(1);
        if (!featureDim.hasDimValue() || featureDim.getDimValue() < 2) {
            throw new NotFlat("has no fixed feature count of 2 or more (dimension 1 is "
                    + (featureDim.hasDimValue() ? featureDim.getDimValue() : "'" + featureDim.getDimParam() + "'") + ")");
        }
        int features = Math.toIntExact(featureDim.getDimValue());
        List<String> readers = new ArrayList<>();
        int[] reader = {-1};
        Graphs.forEach(model.proto(), (path, g) -> {
            for (int n = 0; n < g.getNodeCount(); n++) {
                NodeProto node = g.getNode(n);
                if (node.getInputList().contains(input.getName())) {
                    readers.add(node.getOpType() + (path.isMain() ? "" : " in " + path));
                    reader[0] = path.isMain() ? n : -1;
                }
            }
        });
        boolean isOutput = model.proto().getGraph().getOutputList().stream()
                .anyMatch(output -> output.getName().equals(input.getName()));
        if (readers.size() != 1 || reader[0] < 0 || isOutput) {
            throw new NotFlat("is read by " + (readers.isEmpty() ? "no node" : String.join(", ", readers))
                    + (isOutput ? " and is a graph output" : "") + ", not by one MatMul or Gemm alone");
        }
        NodeProto node = model.proto().getGraph().getNode(reader[0]);
        return layer(model, input.getName(), features, reader[0], node);
    }

    private static FeatureLayer layer(OnnxModel model, String input, int features, int nodeIndex, NodeProto node)
            throws NotFlat {
        String op = node.getOpType();
        boolean gemm = op.equals("Gemm");
        if (!node.getDomain().isEmpty() || !(gemm || op.equals("MatMul")) || node.getInputCount() < 2
                || !node.getInput(0).equals(input) || node.getInput(1).equals(input)) {
            throw new NotFlat("is read by " + op + " '" + node.getName() + "', not as the left operand of a MatMul or Gemm");
        }
        if (gemm && Nodes.intAttribute(node, "transA", 0) != 0) {
            throw new NotFlat("is read by Gemm '" + node.getName() + "' with transA=1");
        }
        Optional<Weight> found = model.weights().all().stream()
                .filter(w -> w.ref().graph().isMain() && w.name().equals(node.getInput(1))).findFirst();
        if (found.isEmpty()) {
            throw new NotFlat("is multiplied by '" + node.getInput(1) + "', which is computed, not a stored weight");
        }
        Weight weight = found.get();
        if (weight.type() != DataType.FLOAT || weight.rank() != 2 || weight.uses().size() != 1) {
            throw new NotFlat("is multiplied by weight '" + weight.name() + "' " + Shapes.format(weight.dims()) + " of "
                    + weight.type().label() + " read by " + weight.uses().size()
                    + " node(s); only a 2-D float32 weight read by that layer alone can lose rows");
        }
        if (model.proto().getGraph().getInputList().stream().anyMatch(i -> i.getName().equals(weight.name()))) {
            throw new NotFlat("is multiplied by weight '" + weight.name() + "', which is also a graph input that"
                    + " callers may override");
        }
        boolean alongRows = !gemm || Nodes.intAttribute(node, "transB", 0) == 0;
        long[] dims = weight.dims();
        int featureAxis = alongRows ? 0 : 1;
        if (dims[featureAxis] != features) {
            throw new NotFlat("has " + features + " features but weight '" + weight.name() + "' is "
                    + Shapes.format(dims));
        }
        return new FeatureLayer(input, features, nodeIndex, node, weight, alongRows,
                Math.toIntExact(dims[1 - featureAxis]));
    }

    private static boolean isInitializer(GraphProto graph, String name) {
        return graph.getInitializerList().stream().anyMatch(t -> t.getName().equals(name));
    }
}

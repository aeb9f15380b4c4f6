package io.modelpress.plugins.features;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.modelpress.model.DataType;
import io.modelpress.model.Graphs;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.model.WeightIndex;
import io.modelpress.spi.SelectedFeatures;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * Makes the model with the smaller input: the feature input keeps only the chosen features (in
 * their original order), the first layer's weight only their rows, and what the removed features
 * contributed at their calibration means moves into the layer's bias, so that a removed feature
 * acts as if it always held its mean (0 without calibration data).
 */
final class InputSlicer {


    private InputSlicer() {
    }

    /**
     * How a model changed.
     *
     * @param model the model with the smaller input
     * @param bias how the removed features' means were folded in: "none", "into the bias of ..." or "by an Add ..."
     */
    record Sliced(OnnxModel model, String bias) {
    }

    /**
     * @param matrix the layer's weight as F × H
     * @param kept indices (in the current input) of the features kept, ascending
     * @param means each feature's mean, or null to treat removed features as 0
     */
    static Sliced slice(OnnxModel model, FeatureLayer layer, float[] matrix, int[] kept, double[] means) {
        int hidden = layer.hidden();
        float[] rows = new float[kept.length * hidden];
        for (int i = 0; i < kept.length; i++) {
            System.arraycopy(matrix, kept[i] * hidden, rows, i * hidden, hidden);
        }
        TensorProto weight = layer.featuresAlongRows()
                ? Tensors.ofFloats(layer.weight().name(), new long[] {kept.length, hidden}, rows)
                : Tensors.ofFloats(layer.weight().name(), new long[] {hidden, kept.length}, transpose(rows, kept.length, hidden));
        ModelProto proto = WeightIndex.replace(model.proto(), Map.of(layer.weight().ref(), weight));
        float[] shift = removedContribution(matrix, layer, kept, means);
        String bias = "none";
        if (shift != null) {
            Optional<Weight> c = foldableBias(model, layer);
            if (c.isPresent()) {
                proto = WeightIndex.replace(proto, Map.of(c.get().ref(), shiftedBias(model, layer, c.get(), shift)));
                bias = "into the bias '" + c.get().name() + "'";
            } else {
                proto = addShift(proto, layer, shift);
                bias = layer.node().getOpType().equals("Gemm") && layer.node().getInputCount() < 3
                        ? "into a new bias of the Gemm" : "by an Add after the layer";
            }
        }
        return new Sliced(model.withProto(narrowInput(proto, layer, originalIndices(model, layer, kept))), bias);
    }

    /**
     * The kept features' indices in the input the model had before any feature selection: when an
     * earlier run narrowed this input already, its metadata maps the current features back.
     */
    static int[] originalIndices(OnnxModel model, FeatureLayer layer, int[] kept) {
        String key = SelectedFeatures.METADATA_PREFIX + layer.input();
        int[] earlier = model.proto().getMetadataPropsList().stream().filter(entry -> entry.getKey().equals(key))
                .map(entry -> SelectedFeatures.parseRanges(entry.getValue()).orElse(null)).filter(Objects::nonNull).findFirst()
                .orElse(null);
        if (earlier == null || earlier.length != layer.features()) {
            return kept.clone(); // no earlier run, or metadata that does not describe this input
        }
        int[] original = new int[kept.length];
        for (int i = 0; i < kept.length; i++) {
            original[i] = earlier[kept[i]];
        }
        return original;
    }

    /** alpha · Σ over removed j of mean_j · W_j, or null when nothing shifts. */
    private static float[] removedContribution(float[] matrix, FeatureLayer layer, int[] kept, double[] means) {
        if (means == null) {
            return null;
        }
        int hidden = layer.hidden();
        boolean[] keep = new boolean[layer.features()];
        for (int j : kept) {
            keep[j] = true;
        }
        double[] sum = new double[hidden];
        boolean any = false;
        for (int j = 0; j < keep.length; j++) {
            if (keep[j] || means[j] == 0) {
                continue;
            }
            any = true;
            int base = j * hidden;
            for (int h = 0; h < hidden; h++) {
                sum[h] += means[j] * matrix[base + h];
            }
        }
        if (!any) {
            return null;
        }
        float alpha = layer.alpha();
        float[] shift = new float[hidden];
        for (int h = 0; h < hidden; h++) {
            shift[h] = (float) (alpha * sum[h]);
        }
        return shift;
    }

    /** The Gemm's C when the shift can be added to it: an [H] or [1, H] float weight read by this Gemm alone. */
    private static Optional<Weight> foldableBias(OnnxModel model, FeatureLayer layer) {
        NodeProto node = layer.node();
        if (!node.getOpType().equals("Gemm") || node.getInputCount() < 3 || node.getInput(2).isEmpty()
                || Nodes.floatAttribute(node, "beta", 1f) == 0f) {
            return Optional.empty();
        }
        String name = node.getInput(2);
        boolean graphInput = model.proto().getGraph().getInputList().stream().anyMatch(i -> i.getName().equals(name));
        return model.weights().all().stream()
                .filter(w -> w.ref().graph().isMain() && w.name().equals(name))
                .filter(w -> !graphInput && w.type() == DataType.FLOAT && w.uses().size() == 1
                        && w.elements() == layer.hidden() && w.dims()[w.rank() - 1] == layer.hidden() && w.rank() <= 2)
                .findFirst();
    }

    private static TensorProto shiftedBias(OnnxModel model, FeatureLayer layer, Weight c, float[] shift) {
        float[] values = Tensors.toFloats(model.weights().tensor(c.ref()));
        float beta = Nodes.floatAttribute(layer.node(), "beta", 1f);
        for (int h = 0; h < values.length; h++) {
            values[h] += shift[h] / beta;
        }
        return Tensors.ofFloats(c.name(), c.dims(), values);
    }

    /** A Gemm without C gets the shift as C (beta 1); otherwise an Add after the layer adds it. */
    private static ModelProto addShift(ModelProto proto, FeatureLayer layer, float[] shift) {
        Set<String> taken = names(proto);
        String shiftName = fresh(taken, layer.weight().name() + "_removed_features");
        GraphProto graph = proto.getGraph();
        NodeProto node = graph.getNode(layer.nodeIndex());
        GraphProto.Builder builder = graph.toBuilder()
                .addInitializer(Tensors.ofFloats(shiftName, new long[] {layer.hidden()}, shift));
        if (node.getOpType().equals("Gemm") && node.getInputCount() < 3) {
            NodeProto.Builder gemm = node.toBuilder().addInput(shiftName).clearAttribute();
            node.getAttributeList().stream().filter(a -> !a.getName().equals("beta")).forEach(gemm::addAttribute);
            builder.setNode(layer.nodeIndex(), gemm);
        } else {
            String product = fresh(taken, node.getOutput(0) + "_before_shift");
            builder.setNode(layer.nodeIndex(), node.toBuilder().setOutput(0, product));
            String addName = node.getName().isEmpty() ? "" : fresh(taken, node.getName() + "_removed_features");
            builder.addNode(layer.nodeIndex() + 1,
                    Nodes.node("Add", addName, List.of(product, shiftName), List.of(node.getOutput(0))));
        }
        return proto.toBuilder().setGraph(builder).build();
    }

    /** The input declared with F' features, documented in the input and the model's metadata. */
    private static ModelProto narrowInput(ModelProto proto, FeatureLayer layer, int[] original) {
        int kept = original.length;
        GraphProto.Builder graph = proto.getGraph().toBuilder();
        for (int i = 0; i < graph.getInputCount(); i++) {
            ValueInfoProto input = graph.getInput(i);
            if (input.getName().equals(layer.input())) {
                ValueInfoProto.Builder narrowed = input.toBuilder();
                narrowed.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder().getDimBuilder(1)
                        .clearDimParam().setDimValue(kept);
                narrowed.setDocString(kept + " of the original features; their"
                        + " original indices are in metadata '" + SelectedFeatures.METADATA_PREFIX + layer.input() + "'");
                graph.setInput(i, narrowed);
            }
        }
        // The weight's declared shape, if any, is stale.
        for (int i = graph.getValueInfoCount() - 1; i >= 0; i--) {
            if (graph.getValueInfo(i).getName().equals(layer.weight().name())) {
                graph.removeValueInfo(i);
            }
        }
        ModelProto.Builder model = proto.toBuilder().setGraph(graph);
        String key = SelectedFeatures.METADATA_PREFIX + layer.input();
        for (int i = model.getMetadataPropsCount() - 1; i >= 0; i--) {
            if (model.getMetadataProps(i).getKey().equals(key)) {
                model.removeMetadataProps(i);
            }
        }
        model.addMetadataProps(StringStringEntryProto.newBuilder().setKey(key).setValue(new SelectedFeatures(layer.input(), original).metadataValue()));
        return model.build();
    }


    private static float[] transpose(float[] rows, int features, int hidden) {
        float[] columns = new float[rows.length];
        for (int j = 0; j < features; j++) {
            for (int h = 0; h < hidden; h++) {
                columns[h * features + j] = rows[j * hidden + h];
            }
        }
        return columns;
    }

    /** Every value name in every graph, so a new name can shadow nothing. */
    private static Set<String> names(ModelProto proto) {
        Set<String> names = new HashSet<>();
        Graphs.forEach(proto, (path, graph) -> {
            graph.getInputList().forEach(v -> names.add(v.getName()));
            graph.getOutputList().forEach(v -> names.add(v.getName()));
            graph.getInitializerList().forEach(t -> names.add(t.getName()));
            for (NodeProto node : graph.getNodeList()) {
                names.addAll(node.getInputList());
                names.addAll(node.getOutputList());
                names.add(node.getName());
            }
        });
        return names;
    }

    private static String fresh(Set<String> taken, String base) {
        String name = base;
        for (int i = 2; !taken.add(name); i++) {
            name = base + "_" + i;
        }
        return name;
    }
}

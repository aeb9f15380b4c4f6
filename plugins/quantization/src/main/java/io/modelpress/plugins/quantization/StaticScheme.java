package io.modelpress.plugins.quantization;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import io.modelpress.model.DataType;
import io.modelpress.model.GraphPath;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Static int8 in QDQ form: Conv (depthwise included), MatMul and Gemm of the main graph get
 * QuantizeLinear/DequantizeLinear on their activation input and output (uint8, ranges from
 * calibration), DequantizeLinear on their int8 per-channel weight and an int32 bias, the pattern
 * ONNX Runtime fuses into QLinearConv / QLinearMatMul / QGemm. Weights of other readers, and of
 * nodes inside subgraphs (whose activations cannot be observed), are quantized weight-only.
 */
final class StaticScheme implements Scheme {

    /** A node whose activations are quantized too. */
    record Target(int nodeIndex, Weight weight, Weight bias) {
    }

    private final Map<String, float[]> ranges;

    StaticScheme(Map<String, float[]> ranges) {
        this.ranges = Map.copyOf(ranges);
    }

    /** Nodes of the main graph that can take quantized activations, given the weights to quantize. */
    static List<Target> targets(OnnxModel model, Collection<Weight> weights) {
        Map<String, Weight> byName = new HashMap<>();
        for (Weight weight : model.weights().all()) {
            if (weight.ref().graph().isMain()) {
                byName.put(weight.name(), weight);
            }
        }
        Set<Weight.Ref> quantized = new java.util.HashSet<>();
        weights.forEach(w -> quantized.add(w.ref()));
        GraphProto graph = model.proto().getGraph();
        List<Target> targets = new ArrayList<>();
        for (int n = 0; n < graph.getNodeCount(); n++) {
            NodeProto node = graph.getNode(n);
            if (!node.getDomain().isEmpty() || node.getInputCount() < 2 || node.getInput(0).isEmpty()) {
                continue;
            }
            boolean supported = switch (node.getOpType()) {
                case "Conv", "MatMul" -> true;
                case "Gemm" -> Nodes.intAttribute(node, "transA", 0) == 0 && Nodes.floatAttribute(node, "alpha", 1f) == 1f
                        && Nodes.floatAttribute(node, "beta", 1f) == 1f;
                default -> false;
            };
            Weight weight = byName.get(node.getInput(1));
            if (!supported || weight == null || !quantized.contains(weight.ref()) || weight.rank() < 2
                    || byName.containsKey(node.getInput(0))) {
                continue;
            }
            Weight bias = null;
            if (node.getInputCount() > 2 && !node.getInput(2).isEmpty()) {
                bias = byName.get(node.getInput(2));
                if (bias == null || bias.type() != DataType.FLOAT || bias.rank() != 1) {
                    continue; // a computed bias: the node stays weight-only
                }
            }
            targets.add(new Target(n, weight, bias));
        }
        return targets;
    }

    /** The activations whose ranges the targets need. */
    static Set<String> activations(OnnxModel model, List<Target> targets) {
        Set<String> names = new LinkedHashSet<>();
        GraphProto graph = model.proto().getGraph();
        for (Target target : targets) {
            names.add(graph.getNode(target.nodeIndex()).getInput(0));
            names.add(graph.getNode(target.nodeIndex()).getOutput(0));
        }
        return names;
    }

    @Override
    public boolean integerCompute(Writer writer, Weight weight) {
        for (Target target : targets(writer.model, List.of(weight))) {
            NodeProto node = writer.model.proto().getGraph().getNode(target.nodeIndex());
            if (ranges.containsKey(node.getInput(0)) && ranges.containsKey(node.getOutput(0))) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void write(Writer writer, List<Weight> weights, List<Weight> weightOnly) {
        List<Target> targets = new ArrayList<>();
        for (Target target : targets(writer.model, weights)) {
            NodeProto node = writer.model.proto().getGraph().getNode(target.nodeIndex());
            if (ranges.containsKey(node.getInput(0)) && ranges.containsKey(node.getOutput(0))) {
                targets.add(target);
            }
        }
        Map<Weight.Ref, QuantizedTensor> targetWeights = new LinkedHashMap<>();
        Set<Weight.Ref> biases = new java.util.HashSet<>();
        for (Target target : targets) {
            if (target.bias() != null) {
                biases.add(target.bias().ref());
            }
        }
        for (Weight weight : weightOnly) {
            if (!biases.contains(weight.ref())) {
                writer.dequantizeInPlace(weight, QuantType.INT8);
            }
        }
        for (Weight weight : weights) {
            if (biases.contains(weight.ref())) {
                continue; // written as int32 with its node
            }
            boolean isTargetWeight = targets.stream().anyMatch(t -> t.weight().ref().equals(weight.ref()));
            if (isTargetWeight) {
                int axis = writer.axisFor(weight);
                QuantizedTensor q = writer.memo("linear " + weight.ref() + " INT8 " + axis + " true",
                        () -> Quantizer.quantize(writer.floats(weight), weight.dims(), axis, QuantType.INT8, true));
                writer.edit.remove(weight);
                writer.edit.addBeside(weight, writer.dequantizeNode(weight, q, weight.name()));
                targetWeights.put(weight.ref(), q);
            } else {
                writer.dequantizeInPlace(weight, QuantType.INT8);
            }
        }
        GraphProto graph = writer.model.proto().getGraph();
        Map<String, Integer> producers = new HashMap<>();
        for (int n = 0; n < graph.getNodeCount(); n++) {
            for (String output : graph.getNode(n).getOutputList()) {
                producers.put(output, n);
            }
        }
        Set<String> targetOutputs = new java.util.HashSet<>();
        targets.forEach(t -> targetOutputs.add(graph.getNode(t.nodeIndex()).getOutput(0)));
        Map<String, String> dequantized = new HashMap<>();
        Set<Weight.Ref> biasesWritten = new java.util.HashSet<>();
        for (Target target : targets) {
            writeTarget(writer, graph, target, targetWeights.get(target.weight().ref()), producers, targetOutputs,
                    dequantized, biasesWritten);
        }
        // biases that a target could not take keep their float value, quantized weight-only when large
        List<Weight> all = new ArrayList<>(weights);
        all.addAll(weightOnly);
        for (Weight weight : all) {
            if (biases.contains(weight.ref()) && !biasesWritten.contains(weight.ref())) {
                writer.dequantizeInPlace(weight, QuantType.INT8);
            }
        }
    }

    private void writeTarget(Writer writer, GraphProto graph, Target target, QuantizedTensor weight,
            Map<String, Integer> producers, Set<String> targetOutputs, Map<String, String> dequantized,
            Set<Weight.Ref> biasesWritten) {
        NodeProto node = graph.getNode(target.nodeIndex());
        String input = node.getInput(0);
        Quantizer.Params inputParams = params(input);
        String inputDq = input;
        if (!targetOutputs.contains(input)) {
            inputDq = dequantized.get(input);
            if (inputDq == null) {
                inputDq = writer.edit.fresh(input + "_dequantized");
                Integer producer = producers.get(input);
                writer.edit.insertAfter(GraphPath.MAIN, producer == null ? -1 : producer,
                        qdq(writer, input, inputParams, inputDq));
                dequantized.put(input, inputDq);
            }
        }
        NodeProto.Builder rewritten = node.toBuilder().setInput(0, inputDq);
        if (target.bias() != null && target.bias().uses().size() == 1) {
            rewritten.setInput(2, int32Bias(writer, target.bias(), inputParams.scale(), weight));
            biasesWritten.add(target.bias().ref());
        } else if (target.bias() != null) {
            String name = int32Bias(writer, target.bias(), inputParams.scale(), weight);
            rewritten.setInput(2, name);
        }
        String output = node.getOutput(0);
        String raw = writer.edit.fresh(output + "_float");
        rewritten.setOutput(0, raw);
        List<NodeProto> nodes = new ArrayList<>();
        nodes.add(rewritten.build());
        nodes.addAll(qdq(writer, raw, params(output), output));
        writer.edit.replace(GraphPath.MAIN, target.nodeIndex(), nodes);
        writer.count(node.getOpType() + " nodes with int8 activations (QDQ, static ranges)");
    }

    private Quantizer.Params params(String activation) {
        float[] range = ranges.get(activation);
        return Quantizer.params(range[0], range[1], QuantType.UINT8, false);
    }

    /** QuantizeLinear then DequantizeLinear of {@code input} into {@code output}, per tensor, uint8. */
    private static List<NodeProto> qdq(Writer writer, String input, Quantizer.Params params, String output) {
        String scale = writer.constant(GraphPath.MAIN, input + "_scale", new float[] {params.scale()}, true);
        String zero = writer.edit.fresh(input + "_zero_point");
        writer.edit.addInitializer(GraphPath.MAIN, Tensors.ofBytes(zero, DataType.UINT8, new long[0],
                new byte[] {(byte) params.zeroPoint()}));
        String quantized = writer.edit.fresh(input + "_quantized");
        String domain = writer.qdqDomain(false, DataType.UINT8);
        return List.of(
                writer.edit.inDomain(writer.edit.node("QuantizeLinear", List.of(input, scale, zero), List.of(quantized)), domain),
                writer.edit.inDomain(writer.edit.node("DequantizeLinear", List.of(quantized, scale, zero), List.of(output)),
                        domain));
    }

    /** The bias as int32 on the scale input scale × weight scale, as the fused integer kernels add it. */
    private static String int32Bias(Writer writer, Weight bias, float inputScale, QuantizedTensor weight) {
        float[] values = writer.floats(bias);
        int channels = values.length;
        boolean perChannel = !weight.perTensor() && weight.scales().length == channels;
        float[] scales = new float[perChannel ? channels : 1];
        int[] quantized = new int[channels];
        for (int c = 0; c < channels; c++) {
            float scale = inputScale * weight.scales()[perChannel ? c : 0];
            scales[perChannel ? c : 0] = scale;
            double q = Math.rint(values[c] / (double) scale);
            quantized[c] = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, q));
        }
        String base = bias.name();
        String values32 = writer.edit.store(bias, base + "_int32", Tensors.ofInt32("", new long[] {channels}, quantized));
        String scale = writer.edit.store(bias, base + "_scale", perChannel
                ? Tensors.ofFloats("", new long[] {channels}, scales) : Tensors.scalarFloat("", scales[0]));
        String output = writer.edit.fresh(base + "_dequantized");
        NodeProto dq = perChannel
                ? writer.edit.node("DequantizeLinear", List.of(values32, scale), List.of(output), Nodes.attr("axis", 0L))
                : writer.edit.node("DequantizeLinear", List.of(values32, scale), List.of(output));
        writer.edit.addBeside(bias, writer.edit.inDomain(dq, writer.qdqDomain(perChannel, DataType.INT32)));
        if (bias.uses().size() == 1) {
            writer.edit.remove(bias);
        }
        return output;
    }
}

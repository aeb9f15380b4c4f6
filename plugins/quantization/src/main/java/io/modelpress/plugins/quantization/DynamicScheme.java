package io.modelpress.plugins.quantization;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.modelpress.model.DataType;
import io.modelpress.model.GraphPath;
import io.modelpress.model.Nodes;
import io.modelpress.model.Weight;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * int8 weights for dynamic quantization. In operator form, MatMul and Gemm become
 * DynamicQuantizeLinear + MatMulInteger + scale, which ONNX Runtime fuses into its int8 kernels;
 * one DynamicQuantizeLinear serves every MatMul reading the same activation. Other readers
 * (Conv, where ONNX Runtime's ConvInteger is slower than float, embeddings, recurrent weights)
 * and the QDQ form get the weight through DequantizeLinear.
 */
final class DynamicScheme implements Scheme {

    private final boolean operatorForm;

    DynamicScheme(boolean operatorForm) {
        this.operatorForm = operatorForm;
    }

    /** The activation quantized once per graph and name. */
    private record Activation(GraphPath graph, String name) {
    }

    private record QuantizedActivation(String values, String scale, String zeroPoint) {
    }

    @Override
    public boolean integerCompute(Writer writer, Weight weight) {
        return integerMatMul(writer, weight) || integerGemm(writer, weight) || integerAttention(writer, weight);
    }

    /** The packed QKV weight of a fused Attention: QAttention runs the three projections as one int8 product. */
    private boolean integerAttention(Writer writer, Weight weight) {
        return operatorForm && writer.opset >= 11 && weight.rank() == 2 && !weight.uses().isEmpty()
                && weight.uses().stream().allMatch(use -> use.opType().equals("Attention") && use.inputIndex() == 1
                        && use.domain().equals(ModelEdit.MS_DOMAIN) && qAttentionForm(writer.consumer(use)));
    }

    /** Input, weight, bias and at most a mask: no past state, which QAttention takes in another form. */
    private static boolean qAttentionForm(NodeProto attention) {
        return attention.getInputCount() >= 3 && attention.getInputCount() <= 4 && !attention.getInput(2).isEmpty();
    }

    private boolean integerMatMul(Writer writer, Weight weight) {
        return operatorForm && writer.opset >= 10 && weight.rank() == 2 && Writer.onlyRead(weight, "MatMul", 1);
    }

    private boolean integerGemm(Writer writer, Weight weight) {
        return operatorForm && writer.opset >= 10 && weight.rank() == 2 && Writer.onlyRead(weight, "Gemm", 1)
                && weight.uses().stream().allMatch(use -> Nodes.intAttribute(writer.consumer(use), "transA", 0) == 0);
    }

    @Override
    public void write(Writer writer, List<Weight> weights, List<Weight> weightOnly) {
        weightOnly.forEach(weight -> writer.dequantizeInPlace(weight, QuantType.INT8));
        Map<Activation, QuantizedActivation> activations = new LinkedHashMap<>();
        Map<Activation, Integer> firstReader = new LinkedHashMap<>();
        for (Weight weight : weights) {
            if (integerMatMul(writer, weight)) {
                integerMatMul(writer, weight, false, activations, firstReader);
            } else if (integerGemm(writer, weight)) {
                integerMatMul(writer, weight, true, activations, firstReader);
            } else if (integerAttention(writer, weight)) {
                integerAttention(writer, weight, activations, firstReader);
            } else if (!operatorForm && weight.uses().stream().allMatch(use -> use.domain().isEmpty()
                    && (use.opType().equals("MatMul") || use.opType().equals("Gemm")))) {
                // the QDQ form of a MatMul/Gemm weight, for runtimes that fuse DequantizeLinear into integer kernels
                writer.dequantizeInPlace(weight, QuantType.INT8, Writer.WeightForm.DEQUANTIZE_LINEAR);
            } else {
                writer.dequantizeInPlace(weight, QuantType.INT8);
            }
        }
        activations.forEach((activation, q) -> {
            NodeProto node = writer.edit.node("DynamicQuantizeLinear", List.of(activation.name()),
                    List.of(q.values(), q.scale(), q.zeroPoint()));
            writer.edit.insertBefore(activation.graph(), firstReader.get(activation), List.of(node));
        });
    }

    private void integerMatMul(Writer writer, Weight weight, boolean gemm, Map<Activation, QuantizedActivation> activations,
            Map<Activation, Integer> firstReader) {
        long[] dims = weight.dims();
        NodeProto first = writer.consumer(weight.uses().get(0));
        boolean transposed = gemm && Nodes.intAttribute(first, "transB", 0) == 1;
        int k = (int) (transposed ? dims[1] : dims[0]);
        int n = (int) (transposed ? dims[0] : dims[1]);
        // Gemm's alpha goes into the weight (each Gemm reading it may have its own: group by alpha)
        Map<Float, List<Weight.Use>> byAlpha = new LinkedHashMap<>();
        for (Weight.Use use : weight.uses()) {
            NodeProto node = writer.consumer(use);
            boolean nodeTransposed = gemm && Nodes.intAttribute(node, "transB", 0) == 1;
            if (nodeTransposed != transposed) {
                writer.dequantizeInPlace(weight, QuantType.INT8);
                return;
            }
            byAlpha.computeIfAbsent(gemm ? Nodes.floatAttribute(node, "alpha", 1f) : 1f, a -> new ArrayList<>()).add(use);
        }
        for (Map.Entry<Float, List<Weight.Use>> group : byAlpha.entrySet()) {
            float alpha = group.getKey();
            QuantizedTensor q = writer.memo("matmul " + weight.ref() + " " + transposed + " " + alpha + " "
                    + writer.perChannel + " " + writer.symmetric, () -> {
                        float[] scaled = writer.floats(weight);
                        if (transposed) {
                            scaled = Writer.transpose(scaled, n, k);
                        }
                        if (alpha != 1f) {
                            for (int i = 0; i < scaled.length; i++) {
                                scaled[i] *= alpha;
                            }
                        }
                        return Quantizer.quantize(scaled, new long[] {k, n}, writer.perChannel ? 1 : -1, QuantType.INT8,
                                writer.symmetric);
                    });
            String base = weight.name();
            String wq = writer.edit.store(weight, base + "_quantized", q.valuesTensor(""));
            String ws = writer.edit.store(weight, base + "_scale", q.scaleTensor(""));
            String wz = writer.edit.store(weight, base + "_zero_point", q.zeroPointTensor(""));
            for (Weight.Use use : group.getValue()) {
                replaceReader(writer, use, wq, ws, wz, activations, firstReader);
            }
        }
        writer.edit.remove(weight);
    }

    private void replaceReader(Writer writer, Weight.Use use, String wq, String ws, String wz,
            Map<Activation, QuantizedActivation> activations, Map<Activation, Integer> firstReader) {
        NodeProto node = writer.consumer(use);
        String output = node.getOutput(0);
        List<NodeProto> nodes = new ArrayList<>();
        String product = node.getOpType().equals("Gemm") && node.getInputCount() > 2 && !node.getInput(2).isEmpty()
                ? writer.edit.fresh(output + "_matmul") : output;
        if (writer.opset < 11) {
            // no DynamicQuantizeLinear before opset 11: ONNX Runtime's fused contrib kernel takes its place
            nodes.add(writer.edit.microsoft(writer.edit.node("DynamicQuantizeMatMul",
                    List.of(node.getInput(0), wq, ws, wz), List.of(product))));
        } else {
            Activation activation = new Activation(use.graph(), node.getInput(0));
            QuantizedActivation q = activations.computeIfAbsent(activation, a -> new QuantizedActivation(
                    writer.edit.fresh(a.name() + "_quantized"), writer.edit.fresh(a.name() + "_scale"),
                    writer.edit.fresh(a.name() + "_zero_point")));
            firstReader.merge(activation, use.nodeIndex(), Math::min);
            String integer = writer.edit.fresh(output + "_int32");
            String asFloat = writer.edit.fresh(output + "_float");
            String scale = writer.edit.fresh(output + "_scale");
            nodes.add(writer.edit.node("MatMulInteger", List.of(q.values(), wq, q.zeroPoint(), wz), List.of(integer)));
            nodes.add(writer.edit.node("Cast", List.of(integer), List.of(asFloat),
                    Nodes.attr("to", (long) DataType.FLOAT.code())));
            nodes.add(writer.edit.node("Mul", List.of(q.scale(), ws), List.of(scale)));
            nodes.add(writer.edit.node("Mul", List.of(asFloat, scale), List.of(product)));
        }
        if (!product.equals(output)) {
            String bias = node.getInput(2);
            float beta = Nodes.floatAttribute(node, "beta", 1f);
            if (beta != 1f) {
                String betaName = writer.constant(use.graph(), output + "_beta", new float[] {beta}, true);
                String scaled = writer.edit.fresh(bias + "_scaled");
                nodes.add(writer.edit.node("Mul", List.of(bias, betaName), List.of(scaled)));
                bias = scaled;
            }
            nodes.add(writer.edit.node("Add", List.of(product, bias), List.of(output)));
        }
        writer.edit.replace(use.graph(), use.nodeIndex(), nodes);
        writer.count("MatMul/Gemm nodes in operator form (DynamicQuantizeLinear + MatMulInteger)");
    }

    /**
     * Attention(x, W, b, mask) becomes DynamicQuantizeLinear(x) + QAttention(x_q, W_q, b, ...): the
     * activation as uint8 with its own scale per run, the packed weight int8 per column (or per
     * tensor), everything after the projection (scores, softmax, context) left in float as before.
     */
    private void integerAttention(Writer writer, Weight weight, Map<Activation, QuantizedActivation> activations,
            Map<Activation, Integer> firstReader) {
        long[] dims = weight.dims();
        QuantizedTensor q = writer.memo("attention " + weight.ref() + " " + writer.perChannel + " " + writer.symmetric,
                () -> Quantizer.quantize(writer.floats(weight), dims, writer.perChannel ? 1 : -1, QuantType.INT8,
                        writer.symmetric));
        String base = weight.name();
        String wq = writer.edit.store(weight, base + "_quantized", q.valuesTensor(""));
        String ws = writer.edit.store(weight, base + "_scale", q.scaleTensor(""));
        String wz = writer.edit.store(weight, base + "_zero_point", q.zeroPointTensor(""));
        for (Weight.Use use : weight.uses()) {
            NodeProto node = writer.consumer(use);
            Activation activation = new Activation(use.graph(), node.getInput(0));
            QuantizedActivation x = activations.computeIfAbsent(activation, a -> new QuantizedActivation(
                    writer.edit.fresh(a.name() + "_quantized"), writer.edit.fresh(a.name() + "_scale"),
                    writer.edit.fresh(a.name() + "_zero_point")));
            firstReader.merge(activation, use.nodeIndex(), Math::min);
            String bias = node.getInput(2);
            String mask = node.getInputCount() > 3 ? node.getInput(3) : "";
            NodeProto quantized = node.toBuilder().setOpType("QAttention").setName(writer.edit.fresh(node.getName() + "_int8"))
                    .clearInput().addAllInput(List.of(x.values(), wq, bias, x.scale(), ws, mask, x.zeroPoint(), wz))
                    .build();
            writer.edit.replace(use.graph(), use.nodeIndex(), List.of(writer.edit.microsoft(quantized)));
            writer.count("Attention nodes as QAttention (DynamicQuantizeLinear + int8 packed QKV projection)");
        }
        writer.edit.remove(weight);
    }
}

package io.modelpress.plugins.quantization;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import java.util.ArrayList;
import java.util.List;

/**
 * 4-bit weight-only block quantization of MatMul and Gemm weights as ONNX Runtime's
 * {@code com.microsoft MatMulNBits}, which runs at any default opset. Other weights (embedding
 * tables, kernels) get int8 through DequantizeLinear: 4 bits would cost them more accuracy than
 * the bytes are worth, and DequantizeLinear has no 4-bit blocks before opset 21.
 */
final class BlockScheme implements Scheme {

    private final int blockSize;
    private final boolean symmetric;
    private final boolean int4Embeddings;

    BlockScheme(int blockSize, boolean symmetric, boolean int4Embeddings) {
        this.blockSize = blockSize;
        this.symmetric = symmetric;
        this.int4Embeddings = int4Embeddings;
    }

    @Override
    public boolean integerCompute(Writer writer, Weight weight) {
        return blockedMatMul(weight) || blockedGemm(writer, weight) || blockedEmbedding(writer, weight);
    }

    private static boolean blockedMatMul(Weight weight) {
        return weight.rank() == 2 && Writer.onlyRead(weight, "MatMul", 1);
    }

    private static boolean blockedGemm(Writer writer, Weight weight) {
        return weight.rank() == 2 && Writer.onlyRead(weight, "Gemm", 1) && sameGemmForm(writer, weight);
    }

    private boolean blockedEmbedding(Writer writer, Weight weight) {
        return int4Embeddings && weight.rank() == 2 && weight.dims()[1] % blockSize == 0
                && Writer.onlyRead(weight, "Gather", 0)
                && weight.uses().stream().allMatch(use -> Nodes.intAttribute(writer.consumer(use), "axis", 0) == 0);
    }

    @Override
    public void write(Writer writer, List<Weight> weights, List<Weight> weightOnly) {
        weightOnly.forEach(weight -> writer.dequantizeInPlace(weight, QuantType.INT8));
        for (Weight weight : weights) {
            if (blockedMatMul(weight)) {
                blocked(writer, weight, false);
            } else if (blockedGemm(writer, weight)) {
                blocked(writer, weight, true);
            } else if (blockedEmbedding(writer, weight)) {
                embedding(writer, weight);
            } else {
                writer.dequantizeInPlace(weight, QuantType.INT8);
            }
        }
    }

    /** An embedding table in 4-bit blocks along each row, read by ONNX Runtime's GatherBlockQuantized. */
    private void embedding(Writer writer, Weight weight) {
        long[] dims = weight.dims();
        int rows = (int) dims[0];
        int cols = (int) dims[1];
        BlockQuantizer.Rows q = writer.memo("rows " + weight.ref() + " " + blockSize + " " + symmetric,
                () -> BlockQuantizer.quantizeRows(writer.floats(weight), rows, cols, blockSize, symmetric));
        long[] scaleDims = {rows, cols / blockSize};
        String base = weight.name();
        String data = writer.edit.store(weight, base + "_q4", Tensors.ofNibbles("", DataType.INT4, dims, q.values()));
        String scales = writer.edit.store(weight, base + "_scales", Tensors.ofFloats("", scaleDims, q.scales()));
        String zeros = q.zeroPoints() == null ? null
                : writer.edit.store(weight, base + "_zero_points", Tensors.ofNibbles("", DataType.INT4, scaleDims, q.zeroPoints()));
        for (Weight.Use use : weight.uses()) {
            NodeProto node = writer.consumer(use);
            List<String> inputs = new ArrayList<>(List.of(data, node.getInput(1), scales));
            if (zeros != null) {
                inputs.add(zeros);
            }
            writer.edit.replace(use.graph(), use.nodeIndex(), List.of(writer.edit.microsoft(writer.edit.node(
                    "GatherBlockQuantized", inputs, List.of(node.getOutput(0)), Nodes.attr("gather_axis", 0L),
                    Nodes.attr("quantize_axis", 1L), Nodes.attr("block_size", (long) blockSize)))));
            writer.count("Gather nodes on 4-bit block embedding tables (GatherBlockQuantized, block " + blockSize + ")");
        }
        writer.edit.remove(weight);
    }

    private static boolean sameGemmForm(Writer writer, Weight weight) {
        NodeProto first = writer.consumer(weight.uses().get(0));
        return weight.uses().stream().map(writer::consumer).allMatch(node -> Nodes.intAttribute(node, "transA", 0) == 0
                && Nodes.intAttribute(node, "transB", 0) == Nodes.intAttribute(first, "transB", 0)
                && Nodes.floatAttribute(node, "alpha", 1f) == Nodes.floatAttribute(first, "alpha", 1f));
    }

    private void blocked(Writer writer, Weight weight, boolean gemm) {
        long[] dims = weight.dims();
        NodeProto first = writer.consumer(weight.uses().get(0));
        boolean transposed = gemm && Nodes.intAttribute(first, "transB", 0) == 1;
        int k = (int) (transposed ? dims[1] : dims[0]);
        int n = (int) (transposed ? dims[0] : dims[1]);
        float alpha = gemm ? Nodes.floatAttribute(first, "alpha", 1f) : 1f;
        BlockQuantizer.Blocked blocked = writer.memo("blocks " + weight.ref() + " " + transposed + " " + alpha + " "
                + blockSize + " " + symmetric, () -> {
                    float[] values = writer.floats(weight);
                    if (transposed) {
                        values = Writer.transpose(values, n, k);
                    }
                    if (alpha != 1f) {
                        for (int i = 0; i < values.length; i++) {
                            values[i] *= alpha;
                        }
                    }
                    return BlockQuantizer.quantize(values, k, n, blockSize, symmetric);
                });
        String base = weight.name();
        String packed = writer.edit.store(weight, base + "_q4", Tensors.ofBytes("", DataType.UINT8,
                new long[] {n, blocked.blocks(), blockSize / 2}, blocked.packed()));
        String scales = writer.edit.store(weight, base + "_scales",
                Tensors.ofFloats("", new long[] {(long) n * blocked.blocks()}, blocked.scales()));
        List<String> inputs = new ArrayList<>(List.of("", packed, scales));
        if (blocked.zeroPoints() != null) {
            inputs.add(writer.edit.store(weight, base + "_zero_points",
                    Tensors.ofBytes("", DataType.UINT8, new long[] {blocked.zeroPoints().length}, blocked.zeroPoints())));
        }
        for (Weight.Use use : weight.uses()) {
            NodeProto node = writer.consumer(use);
            String output = node.getOutput(0);
            boolean bias = gemm && node.getInputCount() > 2 && !node.getInput(2).isEmpty();
            String product = bias ? writer.edit.fresh(output + "_matmul") : output;
            List<String> readerInputs = new ArrayList<>(inputs);
            readerInputs.set(0, node.getInput(0));
            List<NodeProto> nodes = new ArrayList<>();
            nodes.add(writer.edit.microsoft(writer.edit.node("MatMulNBits", readerInputs, List.of(product),
                    Nodes.attr("K", (long) k), Nodes.attr("N", (long) n), Nodes.attr("bits", 4L),
                    Nodes.attr("block_size", (long) blockSize))));
            if (bias) {
                String c = node.getInput(2);
                float beta = Nodes.floatAttribute(node, "beta", 1f);
                if (beta != 1f) {
                    String betaName = writer.constant(use.graph(), output + "_beta", new float[] {beta}, true);
                    String scaled = writer.edit.fresh(c + "_scaled");
                    nodes.add(writer.edit.node("Mul", List.of(c, betaName), List.of(scaled)));
                    c = scaled;
                }
                nodes.add(writer.edit.node("Add", List.of(product, c), List.of(output)));
            }
            writer.edit.replace(use.graph(), use.nodeIndex(), nodes);
            writer.count("MatMul/Gemm nodes on 4-bit block weights (MatMulNBits, block " + blockSize + ")");
        }
        writer.edit.remove(weight);
    }
}

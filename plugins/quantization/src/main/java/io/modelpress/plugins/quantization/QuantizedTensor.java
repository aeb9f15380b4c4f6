package io.modelpress.plugins.quantization;

import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.model.Tensors;
import java.util.Objects;

/**
 * A float tensor mapped onto an integer grid: {@code real = (q - zeroPoint) * scale}, with one
 * scale and zero point for the whole tensor ({@code axis = -1}) or one per slice along {@code axis}.
 *
 * @param type the integer grid
 * @param dims shape of the values
 * @param values one integer per element, as bytes (sub-byte types unpacked)
 * @param axis the channel axis, or -1 for per-tensor
 * @param scales one scale per channel (or one)
 * @param zeroPoints one zero point per channel (or one)
 */
record QuantizedTensor(QuantType type, long[] dims, byte[] values, int axis, float[] scales, int[] zeroPoints) {

    QuantizedTensor {
        Objects.requireNonNull(type, "type is null");
        Objects.requireNonNull(dims, "dims is null");
        Objects.requireNonNull(values, "values is null");
        Objects.requireNonNull(scales, "scales is null");
        Objects.requireNonNull(zeroPoints, "zeroPoints is null");
        if (scales.length != zeroPoints.length) {
            throw new IllegalArgumentException("as many scales as zero points are needed");
        }
    }

    boolean perTensor() {
        return axis < 0;
    }

    /** The integer values as a tensor of the grid's type. */
    TensorProto valuesTensor(String name) {
        return switch (type) {
            case INT8, UINT8 -> Tensors.ofBytes(name, type.dataType(), dims, values);
            case INT4, UINT4 -> Tensors.ofNibbles(name, type.dataType(), dims, values);
        };
    }

    /** Scales: a scalar when per-tensor, else a 1-D tensor along the axis. */
    TensorProto scaleTensor(String name) {
        return perTensor() ? Tensors.scalarFloat(name, scales[0])
                : Tensors.ofFloats(name, new long[] {scales.length}, scales);
    }

    /** Zero points in the grid's type, shaped like the scales. */
    TensorProto zeroPointTensor(String name) {
        byte[] zp = new byte[zeroPoints.length];
        for (int i = 0; i < zp.length; i++) {
            zp[i] = (byte) zeroPoints[i];
        }
        long[] shape = perTensor() ? new long[0] : new long[] {zp.length};
        return switch (type) {
            case INT8, UINT8 -> Tensors.ofBytes(name, type.dataType(), shape, zp);
            case INT4, UINT4 -> Tensors.ofNibbles(name, type.dataType(), shape, zp);
        };
    }

    /** The values this tensor stands for: what DequantizeLinear computes. */
    float[] dequantize() {
        float[] out = new float[values.length];
        int channels = scales.length;
        long inner = Quantizer.inner(dims, axis);
        for (int i = 0; i < out.length; i++) {
            int c = axis < 0 ? 0 : (int) ((i / inner) % channels);
            int q = type.signed() ? values[i] : values[i] & 0xff;
            out[i] = (q - zeroPoints[c]) * scales[c];
        }
        return out;
    }
}

package io.modelpress.plugins.pruning;

import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.UnsafeByteOperations;
import io.modelpress.model.DataType;
import io.modelpress.model.ModelException;
import io.modelpress.model.Shapes;
import io.modelpress.model.Tensors;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Tensor values as little-endian raw bytes, whatever field they were stored in, so that pruning
 * can zero or cut elements of any byte-wide type without converting (and rounding) them.
 */
final class WeightBytes {

    private WeightBytes() {
    }

    /** Whether elements of this type are whole bytes that {@link #raw} can read. */
    static boolean supported(DataType type) {
        return type != DataType.STRING && type != DataType.UNDEFINED && type.bits() > 0 && type.bits() % 8 == 0
                && type != DataType.COMPLEX64 && type != DataType.COMPLEX128;
    }

    /** A fresh copy of the tensor's values as raw data. */
    static byte[] raw(TensorProto tensor) {
        DataType type = DataType.of(tensor);
        if (!supported(type)) {
            throw new ModelException("tensor '" + tensor.getName() + "' of type " + type.label() + " cannot be pruned");
        }
        int n = Shapes.arrayLength(tensor.getName(), Tensors.elementCount(tensor));
        if (tensor.hasRawData()) {
            ByteBuffer raw = Tensors.raw(tensor, type, n);
            byte[] copy = new byte[raw.remaining()];
            raw.get(copy);
            return copy;
        }
        int width = type.bits() / 8;
        ByteBuffer out = ByteBuffer.allocate(Math.multiplyExact(n, width)).order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case FLOAT -> tensor.getFloatDataList().forEach(out::putFloat);
            case DOUBLE -> tensor.getDoubleDataList().forEach(out::putDouble);
            case INT64 -> tensor.getInt64DataList().forEach(out::putLong);
            case UINT64 -> tensor.getUint64DataList().forEach(out::putLong);
            case UINT32 -> tensor.getUint64DataList().forEach(v -> out.putInt((int) (long) v));
            default -> tensor.getInt32DataList().forEach(v -> {
                switch (width) {
                    case 1 -> out.put((byte) (int) v);
                    case 2 -> out.putShort((short) (int) v);
                    default -> out.putInt(v);
                }
            });
        }
        if (out.position() != out.capacity()) {
            throw new ModelException("tensor '" + tensor.getName() + "' declares " + n + " elements but holds "
                    + out.position() / width + " values");
        }
        return out.array();
    }

    /** The tensor with new raw values (and dims), other fields kept; the array is taken over. */
    static TensorProto withRaw(TensorProto tensor, long[] dims, byte[] raw) {
        TensorProto.Builder builder = tensor.toBuilder().clearFloatData().clearDoubleData().clearInt32Data()
                .clearInt64Data().clearUint64Data().clearDims();
        for (long dim : dims) {
            builder.addDims(dim);
        }
        return builder.setRawData(UnsafeByteOperations.unsafeWrap(raw)).build();
    }

    /**
     * The tensor with every element that is zero in {@code values} stored as +0 and the others as they
     * were: pruning float32, float16, bfloat16 and double weights without touching kept values.
     */
    static TensorProto withZeros(TensorProto tensor, float[] values) {
        DataType type = DataType.of(tensor);
        if (type == DataType.FLOAT) {
            ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            raw.asFloatBuffer().put(values);
            return withRaw(tensor, Tensors.dims(tensor), raw.array());
        }
        byte[] raw = raw(tensor);
        int width = type.bits() / 8;
        for (int i = 0; i < values.length; i++) {
            if (values[i] == 0f) {
                java.util.Arrays.fill(raw, i * width, (i + 1) * width, (byte) 0);
            }
        }
        return withRaw(tensor, Tensors.dims(tensor), raw);
    }

    /**
     * Keeps only the given indices along {@code axis} ({@code keep} ascending): one channel cut out
     * of a weight, a bias or a normalisation parameter.
     */
    static byte[] slice(byte[] raw, long[] dims, int width, int axis, int[] keep) {
        long outer = 1;
        for (int d = 0; d < axis; d++) {
            outer *= dims[d];
        }
        long inner = width;
        for (int d = axis + 1; d < dims.length; d++) {
            inner *= dims[d];
        }
        int block = Math.toIntExact(inner);
        int along = Math.toIntExact(dims[axis]);
        byte[] out = new byte[Math.toIntExact(outer * keep.length * inner)];
        int at = 0;
        for (long o = 0; o < outer; o++) {
            long base = o * along * inner;
            for (int k : keep) {
                System.arraycopy(raw, Math.toIntExact(base + k * inner), out, at, block);
                at += block;
            }
        }
        return out;
    }
}

package io.modelpress.model;

import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;

/**
 * Codecs between ONNX {@link TensorProto}s and primitive arrays. Reads both raw_data and the typed
 * fields (float_data, int32_data, ...); always writes raw_data, little-endian, as ONNX requires.
 * Sub-byte types (int4, uint4) are packed two to a byte, the first element in the low nibble.
 */
public final class Tensors {

    private Tensors() {
    }

    public static long[] dims(TensorProto tensor) {
        return Shapes.toArray(tensor.getDimsList());
    }

    public static long elementCount(TensorProto tensor) {
        return Shapes.elementCount(tensor.getName(), tensor.getDimsList());
    }

    /** Whether the tensor stores its values in raw_data (as opposed to a typed field). */
    public static boolean isRaw(TensorProto tensor) {
        return tensor.hasRawData();
    }

    /** Values of a numeric tensor as float32: float, float16, bfloat16, double and integer types. */
    public static float[] toFloats(TensorProto tensor) {
        DataType type = DataType.of(tensor);
        int n = Shapes.arrayLength(tensor.getName(), elementCount(tensor));
        float[] out = new float[n];
        if (tensor.hasRawData()) {
            ByteBuffer raw = raw(tensor, type, n);
            switch (type) {
                case FLOAT -> raw.asFloatBuffer().get(out);
                case FLOAT16 -> {
                    ShortBuffer halves = raw.asShortBuffer();
                    for (int i = 0; i < n; i++) {
                        out[i] = HalfFloats.halfToFloat(halves.get(i));
                    }
                }
                case BFLOAT16 -> {
                    ShortBuffer halves = raw.asShortBuffer();
                    for (int i = 0; i < n; i++) {
                        out[i] = HalfFloats.bfloat16ToFloat(halves.get(i));
                    }
                }
                case DOUBLE -> {
                    for (int i = 0; i < n; i++) {
                        out[i] = (float) raw.getDouble(i * 8);
                    }
                }
                case INT8 -> {
                    for (int i = 0; i < n; i++) {
                        out[i] = raw.get(i);
                    }
                }
                case UINT8, BOOL -> {
                    for (int i = 0; i < n; i++) {
                        out[i] = raw.get(i) & 0xff;
                    }
                }
                case INT16 -> {
                    for (int i = 0; i < n; i++) {
                        out[i] = raw.getShort(i * 2);
                    }
                }
                case UINT16 -> {
                    for (int i = 0; i < n; i++) {
                        out[i] = raw.getShort(i * 2) & 0xffff;
                    }
                }
                case INT32 -> {
                    for (int i = 0; i < n; i++) {
                        out[i] = raw.getInt(i * 4);
                    }
                }
                case INT64 -> {
                    for (int i = 0; i < n; i++) {
                        out[i] = raw.getLong(i * 8);
                    }
                }
                case INT4, UINT4 -> {
                    byte[] values = unpackNibbles(tensor);
                    for (int i = 0; i < n; i++) {
                        out[i] = values[i];
                    }
                }
                default -> throw unsupported(tensor, type, "float values");
            }
            return out;
        }
        switch (type) {
            case FLOAT -> {
                requireTypedCount(tensor, tensor.getFloatDataCount(), n);
                for (int i = 0; i < n; i++) {
                    out[i] = tensor.getFloatData(i);
                }
            }
            case DOUBLE -> {
                requireTypedCount(tensor, tensor.getDoubleDataCount(), n);
                for (int i = 0; i < n; i++) {
                    out[i] = (float) tensor.getDoubleData(i);
                }
            }
            case INT64 -> {
                requireTypedCount(tensor, tensor.getInt64DataCount(), n);
                for (int i = 0; i < n; i++) {
                    out[i] = tensor.getInt64Data(i);
                }
            }
            case FLOAT16, BFLOAT16, INT8, UINT8, INT16, UINT16, INT32, BOOL -> {
                requireTypedCount(tensor, tensor.getInt32DataCount(), n);
                for (int i = 0; i < n; i++) {
                    int v = tensor.getInt32Data(i);
                    out[i] = switch (type) {
                        case FLOAT16 -> HalfFloats.halfToFloat((short) v);
                        case BFLOAT16 -> HalfFloats.bfloat16ToFloat((short) v);
                        default -> v;
                    };
                }
            }
            case INT4, UINT4 -> {
                byte[] values = unpackNibbles(tensor);
                for (int i = 0; i < n; i++) {
                    out[i] = values[i];
                }
            }
            default -> throw unsupported(tensor, type, "float values");
        }
        return out;
    }

    /** Values of an integer tensor (int8 to int64, uint8 to uint32, bool) as longs: shape and index tensors. */
    public static long[] toLongs(TensorProto tensor) {
        DataType type = DataType.of(tensor);
        int n = Shapes.arrayLength(tensor.getName(), elementCount(tensor));
        long[] out = new long[n];
        if (type == DataType.INT64 && !tensor.hasRawData()) {
            requireTypedCount(tensor, tensor.getInt64DataCount(), n);
            for (int i = 0; i < n; i++) {
                out[i] = tensor.getInt64Data(i);
            }
            return out;
        }
        if (type == DataType.INT64) {
            raw(tensor, type, n).asLongBuffer().get(out);
            return out;
        }
        if (type == DataType.INT32) { // not through toFloats: float32 holds integers exactly only up to 2^24
            if (tensor.hasRawData()) {
                java.nio.IntBuffer ints = raw(tensor, type, n).asIntBuffer();
                for (int i = 0; i < n; i++) {
                    out[i] = ints.get(i);
                }
            } else {
                requireTypedCount(tensor, tensor.getInt32DataCount(), n);
                for (int i = 0; i < n; i++) {
                    out[i] = tensor.getInt32Data(i);
                }
            }
            return out;
        }
        if (type == DataType.UINT32 || type == DataType.UINT64) {
            if (tensor.hasRawData()) {
                ByteBuffer raw = raw(tensor, type, n);
                for (int i = 0; i < n; i++) {
                    out[i] = type == DataType.UINT32 ? raw.getInt(i * 4) & 0xffffffffL : raw.getLong(i * 8);
                }
            } else {
                requireTypedCount(tensor, tensor.getUint64DataCount(), n);
                for (int i = 0; i < n; i++) {
                    out[i] = tensor.getUint64Data(i);
                }
            }
            return out;
        }
        switch (type) {
            case INT8, UINT8, INT16, UINT16, INT32, BOOL, INT4, UINT4 -> {
                float[] values = toFloats(tensor);
                for (int i = 0; i < n; i++) {
                    out[i] = (long) values[i];
                }
                return out;
            }
            default -> throw unsupported(tensor, type, "integer values");
        }
    }

    /** The signed (int4) or unsigned (uint4) nibbles of a 4-bit tensor, one value per byte. */
    public static byte[] unpackNibbles(TensorProto tensor) {
        DataType type = DataType.of(tensor);
        if (type != DataType.INT4 && type != DataType.UINT4) {
            throw unsupported(tensor, type, "4-bit values");
        }
        int n = Shapes.arrayLength(tensor.getName(), elementCount(tensor));
        byte[] packed;
        if (tensor.hasRawData()) {
            ByteBuffer raw = raw(tensor, type, n);
            packed = new byte[raw.remaining()];
            raw.get(packed);
        } else {
            requireTypedCount(tensor, tensor.getInt32DataCount(), (n + 1) / 2);
            packed = new byte[(n + 1) / 2];
            for (int i = 0; i < packed.length; i++) {
                packed[i] = (byte) tensor.getInt32Data(i);
            }
        }
        return unpackNibbles(packed, n, type == DataType.INT4);
    }

    public static byte[] unpackNibbles(byte[] packed, int count, boolean signed) {
        byte[] out = new byte[count];
        for (int i = 0; i < count; i++) {
            int nibble = (packed[i >> 1] >> ((i & 1) << 2)) & 0xf;
            out[i] = (byte) (signed ? (nibble << 28) >> 28 : nibble);
        }
        return out;
    }

    /** Packs 4-bit values (one per byte, signed or unsigned) two to a byte, first in the low nibble. */
    public static byte[] packNibbles(byte[] values) {
        byte[] packed = new byte[(values.length + 1) / 2];
        for (int i = 0; i < values.length; i++) {
            packed[i >> 1] |= (byte) ((values[i] & 0xf) << ((i & 1) << 2));
        }
        return packed;
    }

    public static TensorProto ofFloats(String name, long[] dims, float[] values) {
        checkCount(name, dims, values.length);
        ByteBuffer raw = allocate(values.length * 4L);
        raw.asFloatBuffer().put(values);
        return build(name, DataType.FLOAT, dims, raw);
    }

    public static TensorProto ofFloat16(String name, long[] dims, float[] values) {
        checkCount(name, dims, values.length);
        ByteBuffer raw = allocate(values.length * 2L);
        ShortBuffer out = raw.asShortBuffer();
        for (float v : values) {
            out.put(HalfFloats.floatToHalf(v));
        }
        return build(name, DataType.FLOAT16, dims, raw);
    }

    public static TensorProto ofBfloat16(String name, long[] dims, float[] values) {
        checkCount(name, dims, values.length);
        ByteBuffer raw = allocate(values.length * 2L);
        ShortBuffer out = raw.asShortBuffer();
        for (float v : values) {
            out.put(HalfFloats.floatToBfloat16(v));
        }
        return build(name, DataType.BFLOAT16, dims, raw);
    }

    /**
     * int8 or uint8 (by {@code type}) from bytes; uint8 values are the bytes read as unsigned. The
     * array is taken over, not copied: the caller must not change it afterwards.
     */
    public static TensorProto ofBytes(String name, DataType type, long[] dims, byte[] values) {
        if (type != DataType.INT8 && type != DataType.UINT8 && type != DataType.BOOL) {
            throw new IllegalArgumentException("byte values make int8, uint8 or bool tensors, not " + type.label());
        }
        checkCount(name, dims, values.length);
        return build(name, type, dims, ByteBuffer.wrap(values));
    }

    /** int4 or uint4 (by {@code type}) from one value per byte, packed on write. */
    public static TensorProto ofNibbles(String name, DataType type, long[] dims, byte[] values) {
        if (type != DataType.INT4 && type != DataType.UINT4) {
            throw new IllegalArgumentException("nibble values make int4 or uint4 tensors, not " + type.label());
        }
        checkCount(name, dims, values.length);
        return build(name, type, dims, ByteBuffer.wrap(packNibbles(values)));
    }

    public static TensorProto ofInt32(String name, long[] dims, int[] values) {
        checkCount(name, dims, values.length);
        ByteBuffer raw = allocate(values.length * 4L);
        raw.asIntBuffer().put(values);
        return build(name, DataType.INT32, dims, raw);
    }

    public static TensorProto ofInt64(String name, long[] dims, long[] values) {
        checkCount(name, dims, values.length);
        ByteBuffer raw = allocate(values.length * 8L);
        raw.asLongBuffer().put(values);
        return build(name, DataType.INT64, dims, raw);
    }

    public static TensorProto scalarFloat(String name, float value) {
        return ofFloats(name, new long[0], new float[] {value});
    }

    public static TensorProto scalarInt64(String name, long value) {
        return ofInt64(name, new long[0], new long[] {value});
    }

    /** A read-only little-endian view of raw_data, checked against the declared element count. */
    public static ByteBuffer raw(TensorProto tensor, DataType type, long elements) {
        long expected = type.byteSize(elements);
        ByteString data = tensor.getRawData();
        if (data.size() != expected) {
            throw new ModelException("tensor '" + tensor.getName() + "' declares " + elements + " " + type.label()
                    + " elements (" + expected + " bytes) but its raw data holds " + data.size() + " bytes");
        }
        // slice: a ByteString that is a view into a larger array gives a buffer whose position is
        // not 0, and the codecs here index it absolutely
        return data.asReadOnlyByteBuffer().slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Bytes the tensor's values take when stored as raw_data. */
    public static long byteSize(TensorProto tensor) {
        DataType type = DataType.of(tensor);
        if (type == DataType.STRING) {
            return tensor.getStringDataList().stream().mapToLong(ByteString::size).sum();
        }
        return type.byteSize(elementCount(tensor));
    }

    /** Whether any value is NaN or infinite; the first such index, or -1. */
    public static int firstNonFinite(float[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                return i;
            }
        }
        return -1;
    }

    private static TensorProto build(String name, DataType type, long[] dims, ByteBuffer raw) {
        TensorProto.Builder builder = TensorProto.newBuilder().setName(name).setDataType(type.code());
        for (long dim : dims) {
            builder.addDims(dim);
        }
        // The buffer is ours (or handed over by the caller): wrap it without another copy.
        return builder.setRawData(UnsafeByteOperations.unsafeWrap(raw.array(), raw.arrayOffset(), raw.capacity())).build();
    }

    private static ByteBuffer allocate(long bytes) {
        if (bytes > Integer.MAX_VALUE - 16) {
            throw new ModelException("a tensor of " + bytes + " bytes does not fit in one protobuf field");
        }
        return ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void checkCount(String name, long[] dims, int count) {
        long expected = Shapes.elementCount(dims);
        if (expected != count) {
            throw new IllegalArgumentException("tensor '" + name + "' has dims " + Shapes.format(dims)
                    + " (" + expected + " elements) but " + count + " values were given");
        }
    }

    private static void requireTypedCount(TensorProto tensor, int actual, long expected) {
        if (actual != expected) {
            throw new ModelException("tensor '" + tensor.getName() + "' declares " + expected
                    + " elements but holds " + actual + " values");
        }
    }

    private static ModelException unsupported(TensorProto tensor, DataType type, String what) {
        return new ModelException("tensor '" + tensor.getName() + "' of type " + type.label()
                + " cannot be read as " + what);
    }
}

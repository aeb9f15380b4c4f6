package io.modelpress.model;

import ai.onnx.proto.OnnxMl.TensorProto;

/** ONNX tensor element types with their storage width. Codes are those of {@code TensorProto.DataType}. */
public enum DataType {
    UNDEFINED(0, 0),
    FLOAT(1, 32),
    UINT8(2, 8),
    INT8(3, 8),
    UINT16(4, 16),
    INT16(5, 16),
    INT32(6, 32),
    INT64(7, 64),
    STRING(8, 0),
    BOOL(9, 8),
    FLOAT16(10, 16),
    DOUBLE(11, 64),
    UINT32(12, 32),
    UINT64(13, 64),
    COMPLEX64(14, 64),
    COMPLEX128(15, 128),
    BFLOAT16(16, 16),
    FLOAT8E4M3FN(17, 8),
    FLOAT8E4M3FNUZ(18, 8),
    FLOAT8E5M2(19, 8),
    FLOAT8E5M2FNUZ(20, 8),
    UINT4(21, 4),
    INT4(22, 4),
    FLOAT4E2M1(23, 4);

    private static final DataType[] BY_CODE = new DataType[24];

    static {
        for (DataType type : values()) {
            BY_CODE[type.code] = type;
        }
    }

    private final int code;
    private final int bits;

    DataType(int code, int bits) {
        this.code = code;
        this.bits = bits;
    }

    public int code() {
        return code;
    }

    /** Bits one element takes in raw_data; 0 for variable-width types (STRING) and UNDEFINED. */
    public int bits() {
        return bits;
    }

    public boolean isFloatingPoint() {
        return switch (this) {
            case FLOAT, FLOAT16, BFLOAT16, DOUBLE, FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2,
                    FLOAT8E5M2FNUZ, FLOAT4E2M1 -> true;
            default -> false;
        };
    }

    /** Bytes that {@code elements} values take in raw_data (sub-byte types packed two to a byte). */
    public long byteSize(long elements) {
        if (bits == 0) {
            return 0;
        }
        return Math.multiplyExact(elements, bits) / 8 + (elements * bits % 8 == 0 ? 0 : 1);
    }

    public static DataType of(int code) {
        if (code < 0 || code >= BY_CODE.length || BY_CODE[code] == null) {
            throw new ModelException("unknown ONNX tensor data type " + code);
        }
        return BY_CODE[code];
    }

    public static DataType of(TensorProto tensor) {
        return of(tensor.getDataType());
    }

    /** The lowercase name ONNX tools print (float, float16, int8, ...). */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}

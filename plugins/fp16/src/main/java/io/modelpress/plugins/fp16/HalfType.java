package io.modelpress.plugins.fp16;

import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.model.DataType;
import io.modelpress.model.HalfFloats;
import io.modelpress.model.Tensors;
import io.modelpress.spi.Precision;

/** The two 16-bit float formats: IEEE half (5-bit exponent, overflows above 65504) and bfloat16 (fp32's range). */
enum HalfType {
    FP16("fp16", "float16", DataType.FLOAT16, Precision.FP16, HalfFloats.HALF_MAX),
    BF16("bf16", "bfloat16", DataType.BFLOAT16, Precision.BF16, Float.MAX_VALUE);

    private final String option;
    private final String label;
    private final DataType dataType;
    private final Precision precision;
    private final float maxFinite;

    HalfType(String option, String label, DataType dataType, Precision precision, float maxFinite) {
        this.option = option;
        this.label = label;
        this.dataType = dataType;
        this.precision = precision;
        this.maxFinite = maxFinite;
    }

    static HalfType ofOption(String value) {
        for (HalfType type : values()) {
            if (type.option.equals(value)) {
                return type;
            }
        }
        throw new IllegalArgumentException("unknown half type '" + value + "'");
    }

    String option() {
        return option;
    }

    /** ONNX's name: float16 or bfloat16. */
    String label() {
        return label;
    }

    DataType dataType() {
        return dataType;
    }

    Precision precision() {
        return precision;
    }

    /** Largest finite magnitude; larger float32 values would become infinity. */
    float maxFinite() {
        return maxFinite;
    }

    /** The float32 value as this type would store it, read back as float32. */
    float round(float value) {
        return this == FP16 ? HalfFloats.halfToFloat(HalfFloats.floatToHalf(value))
                : HalfFloats.bfloat16ToFloat(HalfFloats.floatToBfloat16(value));
    }

    TensorProto tensor(String name, long[] dims, float[] values) {
        return this == FP16 ? Tensors.ofFloat16(name, dims, values) : Tensors.ofBfloat16(name, dims, values);
    }
}

package io.modelpress.model;

/**
 * IEEE 754 binary16 and bfloat16 conversions with round-to-nearest-even, the rounding ONNX
 * Runtime and numpy use. Java 17 has no {@code Float.floatToFloat16}, so it is done here on bits.
 */
public final class HalfFloats {

    /** Largest finite half value. */
    public static final float HALF_MAX = 65504f;

    private static final float[] HALF_TO_FLOAT = new float[1 << 16];

    static {
        for (int h = 0; h < HALF_TO_FLOAT.length; h++) {
            HALF_TO_FLOAT[h] = decodeHalf(h);
        }
    }

    private HalfFloats() {
    }

    public static float halfToFloat(short half) {
        return HALF_TO_FLOAT[half & 0xffff];
    }

    public static short floatToHalf(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int magnitude = bits & 0x7fffffff;
        if (magnitude >= 0x7f800000) {
            int nanPayload = magnitude > 0x7f800000 ? 0x200 | ((magnitude >>> 13) & 0x3ff) : 0;
            return (short) (sign | 0x7c00 | nanPayload);
        }
        if (magnitude >= 0x477ff000) { // 65520 and above round to infinity
            return (short) (sign | 0x7c00);
        }
        if (magnitude >= 0x38800000) { // normal half: rebias the exponent, round the dropped 13 bits
            int rebased = magnitude - 0x38000000;
            return (short) (sign | ((rebased + 0x0fff + ((rebased >>> 13) & 1)) >>> 13));
        }
        if (magnitude < 0x33000000) { // below half the smallest subnormal: zero
            return (short) sign;
        }
        int exponent = magnitude >>> 23;
        int mantissa = (magnitude & 0x7fffff) | 0x800000;
        int shift = 126 - exponent;
        int result = mantissa >>> shift;
        int remainder = mantissa & ((1 << shift) - 1);
        int halfway = 1 << (shift - 1);
        if (remainder > halfway || (remainder == halfway && (result & 1) == 1)) {
            result++;
        }
        return (short) (sign | result);
    }

    public static float bfloat16ToFloat(short bf16) {
        return Float.intBitsToFloat((bf16 & 0xffff) << 16);
    }

    public static short floatToBfloat16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x40);
        }
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    private static float decodeHalf(int half) {
        int sign = (half & 0x8000) << 16;
        int exponent = (half >>> 10) & 0x1f;
        int mantissa = half & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            float value = Math.scalb((float) mantissa, -24);
            return sign == 0 ? value : -value;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }
}

package io.modelpress.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HalfFloatsTest {

    private static int half(float value) {
        return HalfFloats.floatToHalf(value) & 0xffff;
    }

    private static int bf16(float value) {
        return HalfFloats.floatToBfloat16(value) & 0xffff;
    }

    private static boolean isHalfNaN(int bits) {
        return (bits & 0x7c00) == 0x7c00 && (bits & 0x3ff) != 0;
    }

    private static boolean isBf16NaN(int bits) {
        return (bits & 0x7f80) == 0x7f80 && (bits & 0x7f) != 0;
    }

    private static void assertHex(int expected, int actual, String what) {
        assertEquals(expected, actual, () -> what + ": expected 0x" + Integer.toHexString(expected)
                + " but was 0x" + Integer.toHexString(actual));
    }

    // ---- binary16 ----

    @Test
    void halfKnownEncodings() {
        assertHex(0x3c00, half(1.0f), "1.0");
        assertHex(0xc000, half(-2.0f), "-2.0");
        assertHex(0x3800, half(0.5f), "0.5");
        assertHex(0x2e66, half(0.1f), "0.1");
        assertHex(0x3555, half(1f / 3), "1/3");
        assertHex(0x7bff, half(65504f), "65504, the largest half");
        assertHex(0x7bff, half(Math.nextDown(65520f)), "just under 65520");
        assertHex(0x7c00, half(65520f), "65520 rounds (ties to even) to infinity");
        assertHex(0x7c00, half(1e6f), "1e6 overflows to infinity");
        assertHex(0xfc00, half(-65520f), "-65520");
        assertHex(0x7c00, half(Float.POSITIVE_INFINITY), "+inf");
        assertHex(0xfc00, half(Float.NEGATIVE_INFINITY), "-inf");
        assertHex(0x0400, half(6.1035156e-5f), "2^-14, the smallest normal");
        assertHex(0x03ff, half(6.0975552e-5f), "the largest subnormal");
        assertHex(0x0001, half(5.96e-8f), "5.96e-8 ~ 2^-24, the smallest subnormal");
        assertHex(0x0001, half(0x1p-24f), "2^-24");
        assertHex(0x0000, half(0x1p-25f), "2^-25 = 2.98e-8, half the smallest subnormal, ties to even: 0");
        assertHex(0x0000, half(2.98e-8f), "2.98e-8 (just under 2^-25)");
        assertHex(0x0001, half(Math.nextUp(0x1p-25f)), "just over half the smallest subnormal");
        assertHex(0x0002, half(3 * 0x1p-25f), "1.5 x 2^-24 ties to even: 2 x 2^-24");
        assertHex(0x8000, half(-0x1p-25f), "-2^-25 rounds to -0");
        assertHex(0x0000, half(Float.MIN_VALUE), "smallest float subnormal");
        assertHex(0x0000, half(0.0f), "+0");
        assertHex(0x8000, half(-0.0f), "-0 keeps its sign");
        assertTrue(isHalfNaN(half(Float.NaN)), "NaN stays NaN");
        assertTrue(isHalfNaN(half(Float.intBitsToFloat(0x7f800001))), "a NaN with only low payload bits stays NaN");
        assertHex(0x8000, half(Float.intBitsToFloat(0xff800001)) & 0x8000, "a negative NaN keeps its sign");

        assertEquals(1.0f, HalfFloats.halfToFloat((short) 0x3c00));
        assertEquals(65504f, HalfFloats.halfToFloat((short) 0x7bff));
        assertEquals(0x1p-14f, HalfFloats.halfToFloat((short) 0x0400));
        assertEquals(0x1p-24f, HalfFloats.halfToFloat((short) 0x0001));
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.halfToFloat((short) 0x7c00));
        assertEquals(Float.NEGATIVE_INFINITY, HalfFloats.halfToFloat((short) 0xfc00));
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(HalfFloats.halfToFloat((short) 0x8000)));
        assertTrue(Float.isNaN(HalfFloats.halfToFloat((short) 0x7e00)));
        assertTrue(Float.isNaN(HalfFloats.halfToFloat((short) 0x7c01)));
        assertEquals(HalfFloats.HALF_MAX, HalfFloats.halfToFloat((short) 0x7bff));
    }

    @Test
    void everyHalfSurvivesFloatAndBack() {
        for (int h = 0; h < 1 << 16; h++) {
            float f = HalfFloats.halfToFloat((short) h);
            int back = half(f);
            if (isHalfNaN(h)) {
                assertTrue(Float.isNaN(f), "half 0x" + Integer.toHexString(h) + " is NaN");
                assertTrue(isHalfNaN(back), "half NaN 0x" + Integer.toHexString(h) + " came back as 0x" + Integer.toHexString(back));
                assertEquals(h & 0x8000, back & 0x8000, "sign of NaN 0x" + Integer.toHexString(h));
            } else {
                assertHex(h, back, "half 0x" + Integer.toHexString(h) + " (" + f + ")");
            }
        }
    }

    /**
     * For every pair of neighbouring halves: the exact midpoint rounds to the one with an even
     * mantissa, and the floats just below and above it to the nearer one. This covers every
     * rounding boundary of binary16, subnormals and overflow to infinity included.
     */
    @Test
    void halfRoundsToNearestTiesToEvenAtEveryBoundary() {
        for (int sign : new int[] {0, 0x8000}) {
            for (int h = 0; h < 0x7c00; h++) {
                int lowBits = sign | h;
                int highBits = sign | (h + 1);
                double low = HalfFloats.halfToFloat((short) lowBits);
                // above the largest half the next step would be 2^16, which rounds to infinity
                double high = h + 1 == 0x7c00 ? (sign == 0 ? 65536.0 : -65536.0)
                        : HalfFloats.halfToFloat((short) highBits);
                double exactMid = (low + high) / 2;
                float mid = (float) exactMid;
                assertEquals(exactMid, mid, 0.0, "midpoint of 0x" + Integer.toHexString(lowBits) + " is a float");
                int even = (h & 1) == 0 ? lowBits : highBits;
                assertHex(even, half(mid), "midpoint " + mid + " of 0x" + Integer.toHexString(lowBits));
                float towardLow = sign == 0 ? Math.nextDown(mid) : Math.nextUp(mid);
                float towardHigh = sign == 0 ? Math.nextUp(mid) : Math.nextDown(mid);
                assertHex(lowBits, half(towardLow), "just inside 0x" + Integer.toHexString(lowBits));
                assertHex(highBits, half(towardHigh), "just inside 0x" + Integer.toHexString(highBits));
            }
        }
    }

    @Test
    void randomFloatsGoToTheNearestHalf() {
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 200_000; i++) {
            // bit patterns of floats in the half range, subnormals included
            float f = Float.intBitsToFloat(random.nextInt(0x3000_0000, 0x4780_0000) | (random.nextBoolean() ? 0x8000_0000 : 0));
            int h = half(f);
            double error = Math.abs((double) f - HalfFloats.halfToFloat((short) h));
            int magnitude = h & 0x7fff;
            if (magnitude < 0x7c00) {
                double below = magnitude == 0 ? Double.NaN : HalfFloats.halfToFloat((short) (h - 1));
                double above = magnitude == 0x7bff ? Double.NaN : HalfFloats.halfToFloat((short) (h + 1));
                if (!Double.isNaN(below)) {
                    assertTrue(error <= Math.abs(f - below), f + " -> 0x" + Integer.toHexString(h) + " is not the nearest");
                }
                if (!Double.isNaN(above)) {
                    assertTrue(error <= Math.abs(f - above), f + " -> 0x" + Integer.toHexString(h) + " is not the nearest");
                }
            } else {
                assertTrue(Math.abs(f) >= 65520f, f + " overflowed to infinity");
            }
        }
    }

    // ---- bfloat16 ----

    @Test
    void bfloat16KnownEncodings() {
        assertHex(0x3f80, bf16(1.0f), "1.0");
        assertHex(0xc000, bf16(-2.0f), "-2.0");
        assertHex(0x4040, bf16(3.0f), "3.0");
        assertHex(0x3dcd, bf16(0.1f), "0.1 (0x3dcccccd rounds up)");
        assertHex(0x3f80, bf16(1 + 0x1p-8f), "1 + 2^-8 ties to even: 1.0");
        assertHex(0x3f81, bf16(Math.nextUp(1 + 0x1p-8f)), "just over the tie");
        assertHex(0x3f82, bf16(1 + 3 * 0x1p-8f), "1 + 3*2^-8 ties to even: 0x3f82");
        assertHex(0x7f7f, bf16(Float.intBitsToFloat(0x7f7f7fff)), "just under the top tie");
        assertHex(0x7f80, bf16(Float.intBitsToFloat(0x7f7f8000)), "the top tie rounds to infinity");
        assertHex(0x7f80, bf16(Float.MAX_VALUE), "Float.MAX_VALUE rounds to infinity");
        assertHex(0xff80, bf16(-Float.MAX_VALUE), "-Float.MAX_VALUE");
        assertHex(0x7f80, bf16(Float.POSITIVE_INFINITY), "+inf");
        assertHex(0xff80, bf16(Float.NEGATIVE_INFINITY), "-inf");
        assertHex(0x0000, bf16(Float.MIN_VALUE), "smallest float subnormal");
        assertHex(0x0001, bf16(0x1p-133f), "smallest bfloat16 subnormal");
        assertHex(0x8000, bf16(-0.0f), "-0 keeps its sign");
        assertTrue(isBf16NaN(bf16(Float.NaN)), "NaN stays NaN");
        assertTrue(isBf16NaN(bf16(Float.intBitsToFloat(0x7f800001))), "a NaN with only low payload bits stays NaN, not inf");
        assertTrue(isBf16NaN(bf16(Float.intBitsToFloat(0xffffffff))), "a NaN that would carry into the sign stays NaN");
        assertHex(0x8000, bf16(Float.intBitsToFloat(0xff800001)) & 0x8000, "a negative NaN keeps its sign");

        assertEquals(1.0f, HalfFloats.bfloat16ToFloat((short) 0x3f80));
        assertEquals(-2.0f, HalfFloats.bfloat16ToFloat((short) 0xc000));
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(HalfFloats.bfloat16ToFloat((short) 0x8000)));
        assertTrue(Float.isNaN(HalfFloats.bfloat16ToFloat((short) 0x7fc0)));
    }

    @Test
    void everyBfloat16SurvivesFloatAndBack() {
        for (int b = 0; b < 1 << 16; b++) {
            float f = HalfFloats.bfloat16ToFloat((short) b);
            assertEquals(b << 16, Float.floatToRawIntBits(f), "bfloat16 is the top half of a float");
            int back = bf16(f);
            if (isBf16NaN(b)) {
                assertTrue(isBf16NaN(back), "bfloat16 NaN 0x" + Integer.toHexString(b));
                assertEquals(b & 0x8000, back & 0x8000);
            } else {
                assertHex(b, back, "bfloat16 0x" + Integer.toHexString(b));
            }
        }
    }

    @Test
    void bfloat16RoundsToNearestTiesToEvenAtEveryBoundary() {
        for (int sign : new int[] {0, 0x8000}) {
            for (int b = 0; b < 0x7f80; b++) {
                int lowBits = sign | b;
                int highBits = sign | (b + 1);
                int midBits = (lowBits << 16) | 0x8000; // exactly halfway between the two
                int even = (b & 1) == 0 ? lowBits : highBits;
                assertHex(even, bf16(Float.intBitsToFloat(midBits)), "midpoint above 0x" + Integer.toHexString(lowBits));
                assertHex(lowBits, bf16(Float.intBitsToFloat(midBits - 1)), "just under the midpoint");
                assertHex(highBits, bf16(Float.intBitsToFloat(midBits + 1)), "just over the midpoint");
            }
        }
    }
}

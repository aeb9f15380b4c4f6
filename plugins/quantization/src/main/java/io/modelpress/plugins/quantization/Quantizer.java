package io.modelpress.plugins.quantization;

import java.util.stream.IntStream;

/**
 * The arithmetic of linear quantization, on primitive arrays: scales and zero points from a
 * range, per tensor or per channel, symmetric or asymmetric, rounding half to even as ONNX
 * QuantizeLinear does. Channels are quantized in parallel.
 */
final class Quantizer {

    /** Below this many elements parallel streams cost more than they save. */
    private static final int PARALLEL_MIN = 1 << 15;

    private Quantizer() {
    }

    /** Scale and zero point for values in [min, max]. */
    record Params(float scale, int zeroPoint) {
    }

    /**
     * The scale and zero point that map [min, max] onto {@code type}. The range is widened to
     * hold 0 so that zero (padding, ReLU) is exact. Symmetric ranges put zero at the grid's centre
     * (0 for signed types) and use the largest magnitude on both sides.
     */
    static Params params(float min, float max, QuantType type, boolean symmetric) {
        float lo = Math.min(min, 0f);
        float hi = Math.max(max, 0f);
        if (symmetric) {
            float absMax = Math.max(Math.abs(lo), Math.abs(hi));
            if (absMax == 0f) {
                return new Params(1f, type.signed() ? 0 : (type.max() + 1) / 2);
            }
            if (type.signed()) {
                // [-127, 127] for int8: the grid stays symmetric, -128 is never used
                return new Params(absMax / type.max(), 0);
            }
            int zero = (type.max() + 1) / 2;
            return new Params(absMax / (type.max() - zero), zero);
        }
        if (hi - lo == 0f) {
            return new Params(1f, clamp(0, type));
        }
        float scale = (hi - lo) / (type.max() - type.min());
        int zero = clamp((int) Math.rint(type.min() - lo / scale), type);
        return new Params(scale, zero);
    }

    /** q = clamp(rint(x / scale) + zeroPoint): what QuantizeLinear computes. */
    static int quantize(float x, float scale, int zeroPoint, QuantType type) {
        double q = Math.rint(x / scale) + zeroPoint;
        return (int) Math.max(type.min(), Math.min(type.max(), q));
    }

    static int clamp(int value, QuantType type) {
        return Math.max(type.min(), Math.min(type.max(), value));
    }

    /** Elements after {@code axis} in row-major order (1 when per-tensor). */
    static long inner(long[] dims, int axis) {
        if (axis < 0) {
            return 1;
        }
        long inner = 1;
        for (int d = axis + 1; d < dims.length; d++) {
            inner *= dims[d];
        }
        return inner;
    }

    /**
     * Quantizes {@code values} of shape {@code dims}: per tensor when {@code axis < 0}, else with
     * one scale per index of {@code axis}.
     */
    static QuantizedTensor quantize(float[] values, long[] dims, int axis, QuantType type, boolean symmetric) {
        if (axis >= dims.length) {
            throw new IllegalArgumentException("axis " + axis + " is out of range for rank " + dims.length);
        }
        byte[] out = new byte[values.length];
        if (axis < 0) {
            float[] range = range(values);
            Params p = params(range[0], range[1], type, symmetric);
            quantizeRange(values, out, 0, values.length, p, type);
            return new QuantizedTensor(type, dims, out, -1, new float[] {p.scale()}, new int[] {p.zeroPoint()});
        }
        int channels = Math.toIntExact(dims[axis]);
        int inner = Math.toIntExact(inner(dims, axis));
        int outer = values.length / Math.max(1, channels * inner);
        float[] scales = new float[channels];
        int[] zeros = new int[channels];
        IntStream channelStream = IntStream.range(0, channels);
        if (values.length >= PARALLEL_MIN) {
            channelStream = channelStream.parallel();
        }
        channelStream.forEach(c -> {
            // channel c is the elements [o * channels * inner + c * inner, + inner) for each outer o
            float lo = Float.POSITIVE_INFINITY;
            float hi = Float.NEGATIVE_INFINITY;
            for (int o = 0; o < outer; o++) {
                int start = (o * channels + c) * inner;
                for (int i = start; i < start + inner; i++) {
                    float v = values[i];
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
            Params p = params(lo, hi, type, symmetric);
            scales[c] = p.scale();
            zeros[c] = p.zeroPoint();
            for (int o = 0; o < outer; o++) {
                int start = (o * channels + c) * inner;
                quantizeRange(values, out, start, start + inner, p, type);
            }
        });
        return new QuantizedTensor(type, dims, out, axis, scales, zeros);
    }

    /** {min, max} of all values; {0, 0} when empty. */
    static float[] range(float[] values) {
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < values.length; i++) {
            lo = Math.min(lo, values[i]);
            hi = Math.max(hi, values[i]);
        }
        if (lo > hi) {
            lo = 0;
            hi = 0;
        }
        return new float[] {lo, hi};
    }

    private static void quantizeRange(float[] values, byte[] out, int from, int to, Params p, QuantType type) {
        float scale = p.scale();
        int zero = p.zeroPoint();
        int min = type.min();
        int max = type.max();
        for (int i = from; i < to; i++) {
            // divide, not multiply by an inverse: the quotient is what QuantizeLinear rounds
            int q = (int) Math.rint(values[i] / scale) + zero;
            out[i] = (byte) (q < min ? min : Math.min(q, max));
        }
    }
}

package io.modelpress.plugins.quantization;

import java.util.stream.IntStream;

/**
 * 4-bit block quantization of a MatMul weight {@code W[K, N]} in the layout of ONNX Runtime's
 * {@code com.microsoft MatMulNBits}: for each output column n, K is cut into blocks of
 * {@code blockSize} values (the last padded with zeros), each with its own scale and (when
 * asymmetric) zero point; values are unsigned nibbles, two to a byte, the first in the low nibble.
 */
final class BlockQuantizer {

    private BlockQuantizer() {
    }

    /**
     * A blocked weight.
     *
     * @param k rows of the original weight
     * @param n columns
     * @param blockSize values per block
     * @param blocks blocks per column
     * @param packed {@code n × blocks × blockSize/2} bytes
     * @param scales {@code n × blocks}
     * @param zeroPoints {@code n × ceil(blocks/2)} bytes of packed nibbles; null when symmetric (zero point 8)
     */
    record Blocked(int k, int n, int blockSize, int blocks, byte[] packed, float[] scales, byte[] zeroPoints) {

        /** The weight this stands for, {@code [K, N]} row-major: what MatMulNBits multiplies by. */
        float[] dequantize() {
            float[] out = new float[k * n];
            int blob = blockSize / 2;
            int zpBytes = (blocks + 1) / 2;
            for (int col = 0; col < n; col++) {
                for (int b = 0; b < blocks; b++) {
                    float scale = scales[col * blocks + b];
                    int zero = zeroPoints == null ? 8 : (zeroPoints[col * zpBytes + b / 2] >> ((b & 1) * 4)) & 0xf;
                    for (int j = 0; j < blockSize; j++) {
                        int row = b * blockSize + j;
                        if (row >= k) {
                            break;
                        }
                        int q = (packed[(col * blocks + b) * blob + j / 2] >> ((j & 1) * 4)) & 0xf;
                        out[row * n + col] = (q - zero) * scale;
                    }
                }
            }
            return out;
        }
    }

    static Blocked quantize(float[] weight, int k, int n, int blockSize, boolean symmetric) {
        if (blockSize < 16 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("block size must be a power of two of at least 16, not " + blockSize);
        }
        if ((long) k * n != weight.length) {
            throw new IllegalArgumentException("weight of " + weight.length + " values is not " + k + "×" + n);
        }
        int blocks = (k + blockSize - 1) / blockSize;
        int blob = blockSize / 2;
        int zpBytes = (blocks + 1) / 2;
        byte[] packed = new byte[n * blocks * blob];
        float[] scales = new float[n * blocks];
        byte[] zeroPoints = symmetric ? null : new byte[n * zpBytes];
        IntStream.range(0, n).parallel().forEach(col -> {
            float[] block = new float[blockSize];
            for (int b = 0; b < blocks; b++) {
                int rows = Math.min(blockSize, k - b * blockSize);
                java.util.Arrays.fill(block, 0f);
                for (int j = 0; j < rows; j++) {
                    block[j] = weight[(b * blockSize + j) * n + col];
                }
                float[] chosen = bestScale(block, rows, symmetric);
                float scale = chosen[0];
                int zero = (int) chosen[1];
                if (!symmetric) {
                    zeroPoints[col * zpBytes + b / 2] |= (byte) (zero << ((b & 1) * 4));
                }
                scales[col * blocks + b] = scale;
                int base = (col * blocks + b) * blob;
                for (int j = 0; j < blockSize; j++) {
                    int q = (int) Math.rint(block[j] / scale) + zero;
                    q = Math.max(0, Math.min(15, q));
                    packed[base + j / 2] |= (byte) (q << ((j & 1) * 4));
                }
            }
        });
        return new Blocked(k, n, blockSize, blocks, packed, scales, zeroPoints);
    }

    /**
     * Rows of a table {@code [rows, cols]} in 4-bit blocks along the row, as ONNX Runtime's
     * {@code GatherBlockQuantized} reads them: signed nibbles (one per byte here, packed on write),
     * one scale and zero point per block, {@code [rows, cols / blockSize]}.
     */
    record Rows(byte[] values, float[] scales, byte[] zeroPoints) {
    }

    static Rows quantizeRows(float[] table, int rows, int cols, int blockSize, boolean symmetric) {
        int blocks = cols / blockSize;
        byte[] values = new byte[rows * cols];
        float[] scales = new float[rows * blocks];
        byte[] zeros = new byte[rows * blocks];
        IntStream.range(0, rows).parallel().forEach(row -> {
            float[] block = new float[blockSize];
            for (int b = 0; b < blocks; b++) {
                int base = row * cols + b * blockSize;
                System.arraycopy(table, base, block, 0, blockSize);
                float[] chosen = bestScale(block, blockSize, symmetric);
                int zero = (int) chosen[1];
                scales[row * blocks + b] = chosen[0];
                zeros[row * blocks + b] = (byte) (zero - 8);
                for (int j = 0; j < blockSize; j++) {
                    int q = Math.max(0, Math.min(15, (int) Math.rint(block[j] / chosen[0]) + zero));
                    values[base + j] = (byte) (q - 8);
                }
            }
        });
        return new Rows(values, scales, symmetric ? null : zeros);
    }

    /** Shrink factors of the range tried per block; 1 is plain min-max, so the search is never worse. */
    private static final float[] SHRINK = {1f, 0.95f, 0.9f, 0.85f, 0.8f, 0.75f, 0.7f};

    /**
     * {scale, zero point} for one block: of the ranges min-max shrunk by each factor of
     * {@link #SHRINK}, the one with the least squared error. Clipping a rare large value
     * costs less than coarse steps for all others: with 16 levels this matters.
     */
    static float[] bestScale(float[] block, int rows, boolean symmetric) {
        float extreme = 0f;
        float lo = 0f;
        float hi = 0f;
        for (int j = 0; j < rows; j++) {
            if (Math.abs(block[j]) > Math.abs(extreme)) {
                extreme = block[j];
            }
            lo = Math.min(lo, block[j]);
            hi = Math.max(hi, block[j]);
        }
        if (symmetric ? extreme == 0f : hi == lo) {
            return new float[] {1f, symmetric ? 8 : 0};
        }
        float bestScale = 1f;
        int bestZero = 8;
        double bestError = Double.POSITIVE_INFINITY;
        for (float shrink : SHRINK) {
            float scale;
            int zero;
            if (symmetric) {
                // the value of largest magnitude maps to -8, using the whole grid [-8, 7]
                scale = extreme * shrink / -8f;
                zero = 8;
            } else {
                scale = (hi - lo) * shrink / 15f;
                zero = Math.max(0, Math.min(15, (int) Math.rint(-lo * shrink / scale)));
            }
            double error = 0;
            for (int j = 0; j < rows; j++) {
                int q = Math.max(0, Math.min(15, (int) Math.rint(block[j] / scale) + zero));
                double diff = (q - zero) * scale - block[j];
                error += diff * diff;
            }
            if (error < bestError) {
                bestError = error;
                bestScale = scale;
                bestZero = zero;
            }
        }
        return new float[] {bestScale, bestZero};
    }
}

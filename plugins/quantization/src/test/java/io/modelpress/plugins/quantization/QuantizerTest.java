package io.modelpress.plugins.quantization;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.model.DataType;
import io.modelpress.model.Tensors;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class QuantizerTest {

    @Test
    void roundsHalfToEvenAsQuantizeLinearDoes() {
        assertEquals(2, Quantizer.quantize(2.5f, 1f, 0, QuantType.INT8));
        assertEquals(4, Quantizer.quantize(3.5f, 1f, 0, QuantType.INT8));
        assertEquals(-2, Quantizer.quantize(-2.5f, 1f, 0, QuantType.INT8));
        assertEquals(127, Quantizer.quantize(1000f, 1f, 0, QuantType.INT8), "saturates");
        assertEquals(0, Quantizer.quantize(-5f, 1f, 0, QuantType.UINT8));
        assertEquals(7, Quantizer.quantize(100f, 1f, 0, QuantType.INT4));
        QuantizedTensor q = Quantizer.quantize(new float[] {0.5f, 1.5f, 2.5f, -0.5f}, new long[] {4}, -1, QuantType.INT8, true);
        // scale 2.5/127: values land on exact halves only by construction below
        QuantizedTensor halves = Quantizer.quantize(new float[] {127f, 0.5f, 1.5f, 2.5f}, new long[] {4}, -1,
                QuantType.INT8, true);
        assertEquals(1f, halves.scales()[0]);
        assertArrayEquals(new byte[] {127, 0, 2, 2}, halves.values());
        assertEquals(-1, q.axis());
    }

    @Test
    void symmetricKeepsZeroAtZeroAndAsymmetricFitsTheRange() {
        Quantizer.Params symmetric = Quantizer.params(-1f, 3f, QuantType.INT8, true);
        assertEquals(0, symmetric.zeroPoint());
        assertEquals(3f / 127, symmetric.scale(), 1e-9);
        Quantizer.Params asymmetric = Quantizer.params(-1f, 3f, QuantType.UINT8, false);
        assertEquals(4f / 255, asymmetric.scale(), 1e-9);
        assertEquals(64, asymmetric.zeroPoint());
        assertEquals(0f, (Quantizer.quantize(0f, asymmetric.scale(), asymmetric.zeroPoint(), QuantType.UINT8)
                - asymmetric.zeroPoint()) * asymmetric.scale(), "zero is exact");
        Quantizer.Params positive = Quantizer.params(2f, 4f, QuantType.UINT8, false);
        assertEquals(0, positive.zeroPoint(), "the range is widened to hold zero");
        Quantizer.Params empty = Quantizer.params(0f, 0f, QuantType.INT8, true);
        assertEquals(1f, empty.scale(), "an all-zero tensor gets a usable scale");
    }

    @Test
    void perChannelScalesFollowEachChannelsRange() {
        // 3 output channels along axis 0 with very different ranges
        float[] values = new float[3 * 4];
        for (int i = 0; i < 4; i++) {
            values[i] = 0.01f * (i + 1);
            values[4 + i] = -1f * (i + 1);
            values[8 + i] = 100f * (i - 2);
        }
        QuantizedTensor q = Quantizer.quantize(values, new long[] {3, 4}, 0, QuantType.INT8, true);
        assertEquals(0.04f / 127, q.scales()[0], 1e-9);
        assertEquals(4f / 127, q.scales()[1], 1e-7);
        assertEquals(200f / 127, q.scales()[2], 1e-5);
        float[] back = q.dequantize();
        for (int i = 0; i < values.length; i++) {
            assertTrue(Math.abs(back[i] - values[i]) <= q.scales()[i / 4] / 2 + 1e-6, "element " + i);
        }
        // along the last axis: 4 channels of 3 values each
        QuantizedTensor columns = Quantizer.quantize(values, new long[] {3, 4}, 1, QuantType.INT8, false);
        assertEquals(4, columns.scales().length);
        float[] columnsBack = columns.dequantize();
        for (int i = 0; i < values.length; i++) {
            assertTrue(Math.abs(columnsBack[i] - values[i]) <= columns.scales()[i % 4] / 2 + 1e-5, "element " + i);
        }
    }

    @Test
    void largeTensorsAreQuantizedInParallelWithTheSameResult() {
        SplittableRandom random = new SplittableRandom(3);
        int rows = 512;
        int cols = 256;
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        QuantizedTensor q = Quantizer.quantize(values, new long[] {rows, cols}, 0, QuantType.INT8, true);
        for (int r = 0; r < rows; r += 97) {
            float max = 0;
            for (int c = 0; c < cols; c++) {
                max = Math.max(max, Math.abs(values[r * cols + c]));
            }
            assertEquals(max / 127, q.scales()[r], 1e-7);
            for (int c = 0; c < cols; c++) {
                assertEquals(Quantizer.quantize(values[r * cols + c], q.scales()[r], 0, QuantType.INT8), q.values()[r * cols + c]);
            }
        }
    }

    @Test
    void int4ValuesArePackedTwoToAByteLowNibbleFirst() {
        QuantizedTensor q = Quantizer.quantize(new float[] {7f, -8f, 1f}, new long[] {3}, -1, QuantType.INT4, false);
        var tensor = q.valuesTensor("w");
        assertEquals(DataType.INT4.code(), tensor.getDataType());
        assertEquals(2, tensor.getRawData().size());
        byte[] unpacked = Tensors.unpackNibbles(tensor);
        assertArrayEquals(q.values(), unpacked);
    }

    @Test
    void blocksMatchMatMulNBitsLayoutAndStayWithinHalfAStep() {
        SplittableRandom random = new SplittableRandom(5);
        int k = 70; // not a multiple of the block: the last block is padded
        int n = 6;
        float[] weight = new float[k * n];
        for (int i = 0; i < weight.length; i++) {
            weight[i] = (float) random.nextGaussian() * (1 + i % n);
        }
        for (boolean symmetric : new boolean[] {true, false}) {
            BlockQuantizer.Blocked blocked = BlockQuantizer.quantize(weight, k, n, 32, symmetric);
            assertEquals(3, blocked.blocks());
            assertEquals(n * 3 * 16, blocked.packed().length);
            assertEquals(n * 3, blocked.scales().length);
            assertEquals(symmetric, blocked.zeroPoints() == null);
            float[] back = blocked.dequantize();
            double error = 0;
            double energy = 0;
            for (int i = 0; i < weight.length; i++) {
                error += (back[i] - weight[i]) * (back[i] - weight[i]);
                energy += weight[i] * weight[i];
            }
            assertTrue(Math.sqrt(error / energy) < 0.12, "4-bit relative error " + Math.sqrt(error / energy));
            // the range search never does worse than plain min-max on any block
            for (int col = 0; col < n; col++) {
                float[] block = new float[32];
                for (int j = 0; j < 32; j++) {
                    block[j] = weight[j * n + col];
                }
                float[] best = BlockQuantizer.bestScale(block, 32, symmetric);
                assertTrue(squaredError(block, best) <= squaredError(block, minMax(block, symmetric)) + 1e-9);
            }
        }
    }

    private static float[] minMax(float[] block, boolean symmetric) {
        float lo = 0;
        float hi = 0;
        float extreme = 0;
        for (float v : block) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
            extreme = Math.abs(v) > Math.abs(extreme) ? v : extreme;
        }
        if (symmetric) {
            return new float[] {extreme / -8f, 8};
        }
        float scale = (hi - lo) / 15f;
        return new float[] {scale, Math.round(-lo / scale)};
    }

    private static double squaredError(float[] block, float[] params) {
        double error = 0;
        for (float v : block) {
            int q = Math.max(0, Math.min(15, (int) Math.rint(v / params[0]) + (int) params[1]));
            double diff = (q - params[1]) * params[0] - v;
            error += diff * diff;
        }
        return error;
    }
}

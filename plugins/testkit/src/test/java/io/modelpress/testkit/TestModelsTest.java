package io.modelpress.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.inference.OrtRunner;
import io.modelpress.model.DataType;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.SaveOptions;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.spi.TensorData;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The models TestModels builds run in ONNX Runtime and compute what their documentation says. */
class TestModelsTest {

    @TempDir
    Path dir;

    private static float[] random(long seed, int n) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }

    private static float[] weight(OnnxModel model, String name) {
        Weight weight = model.weights().all().stream().filter(w -> w.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no weight " + name));
        return Tensors.toFloats(model.weights().tensor(weight.ref()));
    }

    /** a[rows, inner] · b[inner, cols] + bias[cols] */
    private static float[] affine(float[] a, float[] b, float[] bias, int rows, int inner, int cols) {
        float[] out = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double sum = bias == null ? 0 : bias[c];
                for (int k = 0; k < inner; k++) {
                    sum += (double) a[r * inner + k] * b[k * cols + c];
                }
                out[r * cols + c] = (float) sum;
            }
        }
        return out;
    }

    private static void assertClose(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-4f * (1 + Math.abs(expected[i])), "element " + i);
        }
    }

    private static float[] run(OnnxModel model, Map<String, TensorData> inputs, String output, long[] shape) {
        try (OrtRunner runner = OrtRunner.open(model)) {
            TensorData y = runner.run(inputs).get(output);
            assertArrayEquals(shape, y.shape());
            return y.toFloats();
        }
    }

    private static TensorData bool(boolean value) {
        return new TensorData(DataType.BOOL, new long[0], ByteBuffer.wrap(new byte[] {(byte) (value ? 1 : 0)}));
    }

    @Test
    void mlpComputesGemmReluMatMulAdd() {
        OnnxModel mlp = TestModels.mlp(8, 16, 4, 5);
        float[] x = random(1, 3 * 8);
        float[] y = run(mlp, Map.of("x", TensorData.ofFloats(new long[] {3, 8}, x)), "y", new long[] {3, 4});

        float[] h = affine(x, weight(mlp, "w1"), weight(mlp, "b1"), 3, 8, 16);
        for (int i = 0; i < h.length; i++) {
            h[i] = Math.max(0, h[i]);
        }
        assertClose(affine(h, weight(mlp, "w2"), weight(mlp, "b2"), 3, 16, 4), y);
        assertEquals(5, mlp.weights().all().size());
        assertTrue(mlp.weights().all().stream().allMatch(w -> w.storage() == Weight.Storage.INITIALIZER));

        OnnxModel constants = TestModels.mlpWithConstantNodes(8, 16, 4, 5);
        assertTrue(constants.weights().all().stream().allMatch(w -> w.storage() == Weight.Storage.CONSTANT_NODE));
        assertEquals(5, constants.weights().all().size());
        float[] same = run(constants, Map.of("x", TensorData.ofFloats(new long[] {3, 8}, x)), "y", new long[] {3, 4});
        assertArrayEquals(y, same, "Constant-node weights compute the same network");
    }

    @Test
    void ifSubgraphTakesTheOuterWeightOrTheBranchOwn() {
        OnnxModel model = TestModels.withIfSubgraph(6, 3, 9);
        float[] x = random(2, 6);
        TensorData input = TensorData.ofFloats(new long[] {1, 6}, x);
        float[] then = run(model, Map.of("x", input, "flag", bool(true)), "y", new long[] {1, 3});
        float[] otherwise = run(model, Map.of("x", input, "flag", bool(false)), "y", new long[] {1, 3});
        assertClose(affine(x, weight(model, "w"), null, 1, 6, 3), then);
        assertClose(affine(x, weight(model, "else_w"), weight(model, "else_b"), 1, 6, 3), otherwise);

        Weight w = model.weights().all().stream().filter(v -> v.name().equals("w")).findFirst().orElseThrow();
        assertTrue(w.ref().graph().isMain());
        assertEquals(1, w.uses().size());
        assertEquals("then_matmul", w.uses().get(0).nodeName(), "the then branch reads the outer weight");
        assertEquals("main/branch.else_branch", model.weights().all().stream()
                .filter(v -> v.name().equals("else_b")).findFirst().orElseThrow().ref().graph().toString());
    }

    @Test
    void cnnComputesConvBatchNormPoolGemm() {
        int channels = 4;
        int classes = 5;
        OnnxModel cnn = TestModels.cnn(channels, classes, 3);
        float[] x = random(3, 2 * 3 * 16 * 16);
        float[] y = run(cnn, Map.of("x", TensorData.ofFloats(new long[] {2, 3, 16, 16}, x)), "y", new long[] {2, classes});

        float[] convW = weight(cnn, "conv_w");
        float[] convB = weight(cnn, "conv_b");
        float[] scale = weight(cnn, "bn_scale");
        float[] bias = weight(cnn, "bn_bias");
        float[] mean = weight(cnn, "bn_mean");
        float[] var = weight(cnn, "bn_var");
        float[] pooled = new float[2 * channels];
        for (int b = 0; b < 2; b++) {
            for (int c = 0; c < channels; c++) {
                double total = 0;
                for (int i = 0; i < 16; i++) {
                    for (int j = 0; j < 16; j++) {
                        double sum = convB[c];
                        for (int ic = 0; ic < 3; ic++) {
                            for (int ki = 0; ki < 3; ki++) {
                                for (int kj = 0; kj < 3; kj++) {
                                    int si = i + ki - 1;
                                    int sj = j + kj - 1;
                                    if (si >= 0 && si < 16 && sj >= 0 && sj < 16) {
                                        sum += (double) x[((b * 3 + ic) * 16 + si) * 16 + sj]
                                                * convW[((c * 3 + ic) * 3 + ki) * 3 + kj];
                                    }
                                }
                            }
                        }
                        double normed = (sum - mean[c]) / Math.sqrt(var[c] + 1e-5) * scale[c] + bias[c];
                        total += Math.max(0, normed);
                    }
                }
                pooled[b * channels + c] = (float) (total / 256);
            }
        }
        assertClose(affine(pooled, weight(cnn, "fc_w"), weight(cnn, "fc_b"), 2, channels, classes), y);
    }

    @Test
    void builtModelsSaveAndReloadUnchanged() {
        for (OnnxModel model : new OnnxModel[] {TestModels.mlp(8, 16, 4, 1), TestModels.mlpWithConstantNodes(8, 16, 4, 1),
            TestModels.withIfSubgraph(6, 3, 1), TestModels.cnn(4, 5, 1)}) {
            Path file = dir.resolve(model.proto().getGraph().getName() + model.weights().all().get(0).storage() + ".onnx");
            model.save(file, new SaveOptions(true, "weights.bin", 64));
            assertEquals(model.proto(), OnnxModel.load(file).proto(), file.getFileName().toString());
        }
    }
}

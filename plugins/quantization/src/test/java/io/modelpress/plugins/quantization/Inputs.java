package io.modelpress.plugins.quantization;

import io.modelpress.model.DataType;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.Mnist;
import io.modelpress.testkit.RealModels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Realistic inputs for the test kit's real models: digit images, speech-like audio, feature frames. */
final class Inputs {

    private Inputs() {
    }

    static List<Map<String, TensorData>> samples(RealModels model, int count, long seed) {
        List<Map<String, TensorData>> samples = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(seed);
        for (int s = 0; s < count; s++) {
            Map<String, TensorData> sample = new LinkedHashMap<>();
            switch (model) {
                case WAKEWORD -> sample.put("onnx::Flatten_0", gaussian(new long[] {1, 25, 96}, random));
                case SILERO_VAD_V4 -> {
                    sample.put("input", audio(512, random));
                    sample.put("sr", TensorData.ofLongs(new long[0], new long[] {16000}));
                    sample.put("h", TensorData.ofFloats(new long[] {2, 1, 64}, new float[128]));
                    sample.put("c", TensorData.ofFloats(new long[] {2, 1, 64}, new float[128]));
                }
                case SILERO_VAD_V5 -> {
                    sample.put("input", audio(512, random));
                    sample.put("state", TensorData.ofFloats(new long[] {2, 1, 128}, new float[256]));
                    sample.put("sr", TensorData.ofLongs(new long[0], new long[] {16000}));
                }
                case OCR_DETECTOR -> sample.put("x", digits(64 + 32 * (s % 2), 96, random, true));
                case OCR_RECOGNIZER -> sample.put("x", digits(48, 320, random, false));
                case OCR_CLASSIFIER -> sample.put("x", digits(48, 192, random, false));
            }
            samples.add(sample);
        }
        return samples;
    }

    static TensorData gaussian(long[] shape, SplittableRandom random) {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble()));
        }
        return TensorData.ofFloats(shape, values);
    }

    /** A voiced sound: a few harmonics of a gliding pitch under a syllable envelope, with a little noise. */
    static TensorData audio(int samples, SplittableRandom random) {
        float[] values = new float[samples];
        double pitch = 90 + random.nextDouble() * 160;
        double amplitude = 0.05 + random.nextDouble() * 0.4;
        double phase = random.nextDouble() * 2 * Math.PI;
        for (int i = 0; i < samples; i++) {
            double t = i / 16000.0;
            double f = pitch * (1 + 0.1 * t * 30);
            double v = 0;
            for (int h = 1; h <= 5; h++) {
                v += Math.sin(2 * Math.PI * f * h * t + phase * h) / h;
            }
            double envelope = Math.sin(Math.PI * (i + 1.0) / (samples + 1));
            values[i] = (float) (amplitude * envelope * v * 0.5 + 0.01 * (random.nextDouble() - 0.5));
        }
        return TensorData.ofFloats(new long[] {1, samples}, values);
    }

    /**
     * Dark MNIST digits written along a light page, {@code 1×3×height×width}, normalised as PaddleOCR
     * does: ImageNet mean and deviation for detection, (x - 0.5) / 0.5 for recognition and classification.
     */
    static TensorData digits(int height, int width, SplittableRandom random, boolean imagenet) {
        Mnist mnist = Mnist.load();
        float[] page = new float[height * width];
        java.util.Arrays.fill(page, 1f);
        int glyph = Math.min(height - 4, 40);
        int x = 2 + random.nextInt(8);
        int top = (height - glyph) / 2;
        while (x + glyph <= width) {
            int index = random.nextInt(mnist.count());
            float[] image = mnist.images(index, index + 1);
            for (int r = 0; r < glyph; r++) {
                for (int c = 0; c < glyph; c++) {
                    float v = bilinear(image, r * 27f / (glyph - 1), c * 27f / (glyph - 1));
                    page[(top + r) * width + x + c] = Math.min(page[(top + r) * width + x + c], 1f - v * 0.9f);
                }
            }
            x += glyph * 3 / 4 + random.nextInt(glyph / 3);
        }
        float[] mean = imagenet ? new float[] {0.485f, 0.456f, 0.406f} : new float[] {0.5f, 0.5f, 0.5f};
        float[] std = imagenet ? new float[] {0.229f, 0.224f, 0.225f} : new float[] {0.5f, 0.5f, 0.5f};
        float[] values = new float[3 * height * width];
        for (int ch = 0; ch < 3; ch++) {
            for (int i = 0; i < page.length; i++) {
                values[ch * page.length + i] = (page[i] - mean[ch]) / std[ch];
            }
        }
        return TensorData.ofFloats(new long[] {1, 3, height, width}, values);
    }

    private static float bilinear(float[] image, float r, float c) {
        int r0 = (int) r;
        int c0 = (int) c;
        int r1 = Math.min(27, r0 + 1);
        int c1 = Math.min(27, c0 + 1);
        float fr = r - r0;
        float fc = c - c0;
        return (1 - fr) * ((1 - fc) * image[r0 * 28 + c0] + fc * image[r0 * 28 + c1])
                + fr * ((1 - fc) * image[r1 * 28 + c0] + fc * image[r1 * 28 + c1]);
    }

    static TensorData bool(boolean value) {
        return new TensorData(DataType.BOOL, new long[0], ByteBuffer.wrap(new byte[] {(byte) (value ? 1 : 0)})
                .order(ByteOrder.LITTLE_ENDIAN));
    }
}

package io.modelpress.testkit;

import io.modelpress.model.DataType;
import io.modelpress.spi.TensorData;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Inputs like the ones each real model sees in use: speech-like audio, smooth images, feature frames. */
public final class RealInputs {

    private RealInputs() {
    }

    public static Map<String, TensorData> of(RealModels model, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, TensorData> inputs = new LinkedHashMap<>();
        switch (model) {
            case WAKEWORD -> inputs.put("onnx::Flatten_0", gaussian(random, 1, 25, 96));
            case SILERO_VAD_V4 -> {
                inputs.put("input", audio(random, 512));
                inputs.put("sr", TensorData.ofLongs(new long[0], new long[] {16000}));
                inputs.put("h", TensorData.ofFloats(new long[] {2, 1, 64}, new float[128]));
                inputs.put("c", TensorData.ofFloats(new long[] {2, 1, 64}, new float[128]));
            }
            case SILERO_VAD_V5 -> {
                inputs.put("input", audio(random, 512));
                inputs.put("state", TensorData.ofFloats(new long[] {2, 1, 128}, new float[256]));
                inputs.put("sr", TensorData.ofLongs(new long[0], new long[] {16000}));
            }
            case OCR_DETECTOR -> inputs.put("x", image(random, 64, 64));
            case OCR_RECOGNIZER -> inputs.put("x", image(random, 48, 320));
            case OCR_CLASSIFIER -> inputs.put("x", image(random, 48, 192));
        }
        return inputs;
    }

    public static TensorData bool(boolean value) {
        return new TensorData(DataType.BOOL, new long[0], ByteBuffer.wrap(new byte[] {(byte) (value ? 1 : 0)}));
    }

    public static TensorData gaussian(SplittableRandom random, long... shape) {
        int n = 1;
        for (long dim : shape) {
            n *= (int) dim;
        }
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            double u = 1.0 - random.nextDouble();
            values[i] = (float) (Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble()));
        }
        return TensorData.ofFloats(shape, values);
    }

    /** A voiced-sounding chunk at 16 kHz: a few harmonics with a slow envelope and a little noise. */
    public static TensorData audio(SplittableRandom random, int samples) {
        float[] values = new float[samples];
        double pitch = 120 + random.nextDouble() * 100;
        for (int i = 0; i < samples; i++) {
            double t = i / 16000.0;
            double voice = 0;
            for (int h = 1; h <= 4; h++) {
                voice += Math.sin(2 * Math.PI * pitch * h * t + h) / h;
            }
            double envelope = 0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t);
            values[i] = (float) (0.2 * envelope * voice + 0.005 * (random.nextDouble() - 0.5));
        }
        return TensorData.ofFloats(new long[] {1, samples}, values);
    }

    /**
     * A page of text as PaddleOCR sees it, normalised to [-1, 1] ((x / 255 - 0.5) / 0.5): a light,
     * gently shaded background with lines of dark glyph-like blocks (outlines and diagonal strokes)
     * of random widths and spacing. No pixel noise.
     */
    public static TensorData image(SplittableRandom random, int height, int width) {
        double[][] pixels = new double[height][width];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                pixels[y][x] = 0.92 + 0.04 * Math.sin(x * 0.03 + y * 0.02);
            }
        }
        int lineHeight = Math.max(8, height / 4);
        int glyphHeight = lineHeight * 3 / 4;
        for (int top = height / 8; top + glyphHeight < height; top += lineHeight + lineHeight / 2) {
            int x = width / 16;
            while (x < width - width / 16) {
                int glyphWidth = 3 + random.nextInt(Math.max(2, lineHeight / 2));
                for (int y = top; y < top + glyphHeight; y++) {
                    for (int dx = 0; dx < glyphWidth && x + dx < width; dx++) {
                        if (dx < 2 || y - top < 2 || (dx + y) % 5 == 0) {
                            pixels[y][x + dx] = 0.12;
                        }
                    }
                }
                x += glyphWidth + 2 + random.nextInt(3) + (random.nextInt(6) == 0 ? lineHeight / 2 : 0);
            }
        }
        float[] values = new float[3 * height * width];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    values[(c * height + y) * width + x] = (float) ((pixels[y][x] - 0.5) / 0.5);
                }
            }
        }
        return TensorData.ofFloats(new long[] {1, 3, height, width}, values);
    }

    /**
     * Inputs of a BERT-style sentence encoder: {@code count} sequences of {@code length} random
     * token ids (1000..29999) between [CLS] (101) and [SEP] (102), all attended, one segment.
     */
    public static List<Map<String, TensorData>> tokenIds(long seed, int count, int length) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Map<String, TensorData>> samples = new ArrayList<>();
        for (int s = 0; s < count; s++) {
            long[] ids = new long[length];
            long[] mask = new long[length];
            for (int i = 0; i < length; i++) {
                ids[i] = i == 0 ? 101 : i == length - 1 ? 102 : 1000 + random.nextInt(29000);
                mask[i] = 1;
            }
            long[] shape = {1, length};
            samples.add(Map.of("input_ids", TensorData.ofLongs(shape, ids), "attention_mask",
                    TensorData.ofLongs(shape, mask), "token_type_ids", TensorData.ofLongs(shape, new long[length])));
        }
        return samples;
    }
}

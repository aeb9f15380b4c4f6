package io.modelpress.testkit;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * 10,000 labelled MNIST digits (see {@code data/README.md}): images as floats in [0, 1], 28×28
 * row-major, and their labels. Loaded once per JVM.
 *
 * @param count number of images
 * @param labels the digit of each image
 * @param pixels {@code count × 784} values in [0, 1]
 */
public record Mnist(int count, byte[] labels, float[] pixels) {

    public static final int PIXELS = 784;
    public static final int CLASSES = 10;

    private static volatile Mnist loaded;

    /** The whole set. */
    public static Mnist load() {
        Mnist digits = loaded;
        if (digits == null) {
            digits = read();
            loaded = digits;
        }
        return digits;
    }

    /** Images {@code from} (inclusive) to {@code to} (exclusive) as one {@code (to-from) × 784} array. */
    public float[] images(int from, int to) {
        return Arrays.copyOfRange(pixels, from * PIXELS, to * PIXELS);
    }

    public int label(int index) {
        return labels[index];
    }

    private static Mnist read() {
        try (InputStream resource = Mnist.class.getResourceAsStream("data/mnist-digits.bin.gz")) {
            if (resource == null) {
                throw new IllegalStateException("mnist-digits.bin.gz is missing from the test kit");
            }
            DataInputStream in = new DataInputStream(new GZIPInputStream(resource, 1 << 16));
            byte[] magic = new byte[8];
            in.readFully(magic);
            if (!new String(magic, java.nio.charset.StandardCharsets.US_ASCII).equals("MPMNIST1")) {
                throw new IllegalStateException("mnist-digits.bin.gz has an unknown layout");
            }
            int count = in.readInt();
            int perImage = in.readInt();
            if (perImage != PIXELS) {
                throw new IllegalStateException("expected 784 pixels per image, found " + perImage);
            }
            byte[] labels = new byte[count];
            in.readFully(labels);
            byte[] raw = new byte[count * PIXELS];
            in.readFully(raw);
            float[] pixels = new float[raw.length];
            for (int i = 0; i < raw.length; i++) {
                pixels[i] = (raw[i] & 0xff) / 255f;
            }
            return new Mnist(count, labels, pixels);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

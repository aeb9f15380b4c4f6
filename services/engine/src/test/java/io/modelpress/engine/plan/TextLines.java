package io.modelpress.engine.plan;

import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.TensorData;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Text lines rendered with Java2D as a PaddleOCR recognizer reads them: 48 pixels high, grey levels
 * scaled to [-1, 1] by (x / 255 - 0.5) / 0.5 and repeated over three channels, dark text on white,
 * in several fonts, sizes and positions.
 */
final class TextLines {

    static final int HEIGHT = 48;
    static final int WIDTH = 320;
    private static final String CHARACTERS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZabcdefghkmnprstuvwxyz";
    private static final String[] FONTS = {Font.SANS_SERIF, Font.SERIF, Font.MONOSPACED};
    private static final int[] SIZES = {24, 28, 32};

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private TextLines() {
    }

    /** {@code samples} samples of {@code linesPerSample} lines each, under input {@code inputName}; seeded. */
    static CalibrationData render(String inputName, int samples, int linesPerSample, long seed) {
        Random random = new Random(seed);
        List<Map<String, TensorData>> out = new ArrayList<>();
        for (int s = 0; s < samples; s++) {
            float[] values = new float[linesPerSample * 3 * HEIGHT * WIDTH];
            for (int line = 0; line < linesPerSample; line++) {
                BufferedImage image = line(text(random), FONTS[random.nextInt(FONTS.length)],
                        SIZES[random.nextInt(SIZES.length)], 4 + random.nextInt(12));
                write(image, values, line);
            }
            out.add(Map.of(inputName, TensorData.ofFloats(new long[] {linesPerSample, 3, HEIGHT, WIDTH}, values)));
        }
        return CalibrationData.of(out);
    }

    private static String text(Random random) {
        StringBuilder text = new StringBuilder();
        int length = 5 + random.nextInt(6);
        for (int i = 0; i < length; i++) {
            text.append(CHARACTERS.charAt(random.nextInt(CHARACTERS.length())));
        }
        return text.toString();
    }

    private static BufferedImage line(String text, String font, int size, int x) {
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_BYTE_GRAY);
        Graphics2D g = image.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, HEIGHT);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.BLACK);
        g.setFont(new Font(font, Font.PLAIN, size));
        int baseline = (HEIGHT + g.getFontMetrics().getAscent() - g.getFontMetrics().getDescent()) / 2;
        g.drawString(text, x, baseline);
        g.dispose();
        return image;
    }

    private static void write(BufferedImage image, float[] values, int line) {
        int plane = HEIGHT * WIDTH;
        int base = line * 3 * plane;
        for (int y = 0; y < HEIGHT; y++) {
            for (int x = 0; x < WIDTH; x++) {
                float value = ((image.getRaster().getSample(x, y, 0) / 255f) - 0.5f) / 0.5f;
                for (int c = 0; c < 3; c++) {
                    values[base + c * plane + y * WIDTH + x] = value;
                }
            }
        }
    }
}

package io.modelpress.engine.data.raw;

import static java.util.Objects.requireNonNull;

import io.modelpress.engine.EngineException;
import io.modelpress.engine.data.raw.ImageOptions.Fit;
import io.modelpress.engine.data.raw.ImageOptions.Layout;
import io.modelpress.model.ModelSummary;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import javax.imageio.ImageIO;

/**
 * Turns image files into one model input's values, with the sizes and layout settled once against
 * the input's declared shape: {@code [N, C, H, W]}, {@code [N, H, W, C]}, {@code [N, H, W]}
 * (grayscale) or a flat {@code [N, H*W*C]}.
 */
final class ImageConverter {

    private final int width;
    private final int height;
    private final int channels;
    /** Empty: a flat or [N, H, W] input, values in H, W, C order. */
    private final Optional<Layout> layout;
    private final ImageOptions options;
    private final long[] exampleShape;

    private ImageConverter(int width, int height, int channels, Optional<Layout> layout, ImageOptions options,
                           long[] exampleShape) {
        this.width = width;
        this.height = height;
        this.channels = channels;
        this.layout = layout;
        this.options = options;
        this.exampleShape = exampleShape;
    }

    /** Settles width, height, channels and layout from the options, then from the input's fixed dims. */
    static ImageConverter forInput(ModelSummary.Value input, ImageOptions options) {
        requireNonNull(input, "input is null");
        requireNonNull(options, "options is null");
        List<String> dims = input.shape();
        String where = "input '" + input.name() + "' " + dims;
        if (!input.type().equals("float")) {
            throw new EngineException(where + " takes " + input.type() + "; images fill float inputs");
        }
        return switch (dims.size()) {
            case 4 -> fourDims(dims, where, options);
            case 3 -> {
                int h = size(options.height(), dims.get(1), "height", where);
                int w = size(options.width(), dims.get(2), "width", where);
                yield new ImageConverter(w, h, 1, Optional.empty(), options, new long[] {h, w});
            }
            case 2 -> {
                int h = options.height().orElseThrow(() -> new EngineException(where + " is flat: give the image --height and --width"));
                int w = options.width().orElseThrow(() -> new EngineException(where + " is flat: give the image --height and --width"));
                int c = options.channels().orElse(3);
                long features = (long) h * w * c;
                if (fixed(dims.get(1)) && Long.parseLong(dims.get(1)) != features) {
                    throw new EngineException(where + " takes " + dims.get(1) + " values per example, but " + h + "x" + w
                            + "x" + c + " images give " + features);
                }
                yield new ImageConverter(w, h, c, Optional.empty(), options, new long[] {features});
            }
            default -> throw new EngineException(where + " has rank " + dims.size()
                    + "; images fill inputs of rank 4 (NCHW, NHWC), 3 (grayscale) or 2 (flat)");
        };
    }

    private static ImageConverter fourDims(List<String> dims, String where, ImageOptions options) {
        // a 3 marks the channel axis best; a 1 could also be a height of one
        Layout layout = options.layout().orElseGet(() -> dims.get(1).equals("3") ? Layout.NCHW
                : dims.get(3).equals("3") ? Layout.NHWC
                : dims.get(1).equals("1") ? Layout.NCHW
                : dims.get(3).equals("1") ? Layout.NHWC : Layout.NCHW);
        int channelAxis = layout == Layout.NCHW ? 1 : 3;
        int heightAxis = layout == Layout.NCHW ? 2 : 1;
        int c = options.channels().orElse(fixed(dims.get(channelAxis)) ? Integer.parseInt(dims.get(channelAxis)) : 3);
        if (fixed(dims.get(channelAxis)) && Integer.parseInt(dims.get(channelAxis)) != c) {
            throw new EngineException(where + " (" + layout + ") takes " + dims.get(channelAxis) + " channels, not " + c);
        }
        if (c != 1 && c != 3) {
            throw new EngineException(where + " (" + layout + ") takes " + c + " channels; images give 1 or 3");
        }
        int h = size(options.height(), dims.get(heightAxis), "height", where);
        int w = size(options.width(), dims.get(heightAxis + 1), "width", where);
        long[] shape = layout == Layout.NCHW ? new long[] {c, h, w} : new long[] {h, w, c};
        return new ImageConverter(w, h, c, Optional.of(layout), options, shape);
    }

    private static boolean fixed(String dim) {
        return !dim.isEmpty() && dim.chars().allMatch(Character::isDigit);
    }

    /** The option's size, which must agree with a fixed dim; else the fixed dim; else a reason to give it. */
    private static int size(Optional<Integer> option, String dim, String what, String where) {
        if (fixed(dim)) {
            int declared = Integer.parseInt(dim);
            if (option.isPresent() && option.get() != declared) {
                throw new EngineException(where + " has " + what + " " + declared + ", not " + option.get());
            }
            return declared;
        }
        return option.orElseThrow(() -> new EngineException(where + " has a variable " + what + " (" + dim
                + "): give --" + what));
    }

    /** One example's shape, without the batch axis. */
    long[] exampleShape() {
        return exampleShape.clone();
    }

    int exampleSize() {
        return width * height * channels;
    }

    String describe() {
        return width + "x" + height + " " + (channels == 1 ? "grayscale" : options.order().name())
                + layout.map(l -> " " + l).orElse(" " + (exampleShape.length == 1 ? "flat" : "HW")) + ", "
                + (options.fit() == Fit.PAD ? "aspect kept, padded" : "stretched")
                + ", scale " + (float) options.scale() + " mean " + Arrays.toString(options.mean())
                + " std " + Arrays.toString(options.std());
    }

    /** Reads one file; a file ImageIO cannot decode is refused naming it. */
    float[] convert(Path file) {
        BufferedImage image;
        try {
            image = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) {
            throw new EngineException(file + ": not a readable image (" + e.getMessage() + ")");
        }
        if (image == null) {
            throw new EngineException(file + ": not an image this reader knows (PNG, JPEG, BMP, GIF)");
        }
        return convert(image);
    }

    float[] convert(BufferedImage image) {
        int drawnWidth = width;
        if (options.fit() == Fit.PAD) {
            drawnWidth = (int) Math.min(width, Math.ceil((double) height * image.getWidth() / image.getHeight()));
        }
        // A grayscale file is resized as gray: drawing it into RGB would pass its values through
        // Java2D's linear-gray to sRGB conversion and brighten every mid-tone.
        boolean gray = image.getColorModel().getNumComponents() == 1;
        BufferedImage resized = new BufferedImage(width, height, gray ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
        Graphics2D g = resized.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.setBackground(Color.WHITE); // transparent pixels read as on white paper
            g.clearRect(0, 0, width, height);
            g.drawImage(image, 0, 0, drawnWidth, height, null);
        } finally {
            g.dispose();
        }
        int[] pixels = gray ? grayAsRgb(resized) : resized.getRGB(0, 0, width, height, null, 0, width);
        float[] values = new float[exampleSize()];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int rgb = pixels[y * width + x];
                boolean padding = x >= drawnWidth;
                for (int c = 0; c < channels; c++) {
                    values[index(c, y, x)] = padding ? 0f : normalize(rgb, c);
                }
            }
        }
        return values;
    }

    /** The gray values as they are in the file, each repeated in R, G and B. */
    private int[] grayAsRgb(BufferedImage gray) {
        int[] samples = gray.getRaster().getSamples(0, 0, width, height, 0, (int[]) null);
        for (int i = 0; i < samples.length; i++) {
            samples[i] = samples[i] * 0x010101;
        }
        return samples;
    }

    private float normalize(int rgb, int channel) {
        int r = (rgb >> 16) & 0xff;
        int g = (rgb >> 8) & 0xff;
        int b = rgb & 0xff;
        double pixel;
        if (channels == 1) {
            pixel = 0.299 * r + 0.587 * g + 0.114 * b; // ITU-R 601 luma, as PIL's "L" mode
        } else {
            int source = options.order() == ImageOptions.ChannelOrder.RGB ? channel : 2 - channel;
            pixel = source == 0 ? r : source == 1 ? g : b;
        }
        return (float) ((pixel * options.scale() - options.meanOf(channel)) / options.stdOf(channel));
    }

    private int index(int c, int y, int x) {
        if (layout.isPresent() && layout.get() == Layout.NCHW) {
            return (c * height + y) * width + x;
        }
        return (y * width + x) * channels + c;
    }
}

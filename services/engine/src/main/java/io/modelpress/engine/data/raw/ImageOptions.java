package io.modelpress.engine.data.raw;

import static java.util.Objects.requireNonNull;

import io.modelpress.engine.EngineException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * How an image becomes a model input: its size, how it gets there, the layout and channel order of
 * the tensor, and the normalisation {@code (pixel * scale - mean[c]) / std[c]} per channel. Unset
 * sizes and layout are read from the model's input shape.
 *
 * @param width target width; empty: the input's fixed width
 * @param height target height; empty: the input's fixed height
 * @param channels 1 (grayscale) or 3; empty: the input's channel dim, else 3
 * @param layout NCHW or NHWC; empty: whichever the input's shape shows
 * @param fit how the picture fills width x height
 * @param order RGB or BGR (what the model was trained on; OpenCV pipelines see BGR)
 * @param scale multiplies each 0..255 pixel value first
 * @param mean subtracted per channel after scaling (one value or one per channel)
 * @param std divides per channel after the mean (one value or one per channel)
 */
public record ImageOptions(Optional<Integer> width, Optional<Integer> height, Optional<Integer> channels,
                           Optional<Layout> layout, Fit fit, ChannelOrder order, double scale, double[] mean, double[] std) {

    /** Where the channel axis is. */
    public enum Layout { NCHW, NHWC }

    /** RGB or BGR channel order. */
    public enum ChannelOrder { RGB, BGR }

    /**
     * STRETCH resizes to exactly width x height; PAD keeps the aspect ratio at the target height, up to
     * the target width, and fills the rest of the row with 0 after normalisation (text-line recognisers).
     */
    public enum Fit { STRETCH, PAD }

    /** The names {@link #preset} knows. */
    public static final List<String> PRESETS = List.of("imagenet", "mnist", "paddleocr-rec", "none");

    public ImageOptions {
        requireNonNull(width, "width is null");
        requireNonNull(height, "height is null");
        requireNonNull(channels, "channels is null");
        requireNonNull(layout, "layout is null");
        requireNonNull(fit, "fit is null");
        requireNonNull(order, "order is null");
        requireNonNull(mean, "mean is null");
        requireNonNull(std, "std is null");
        width.ifPresent(w -> positive("width", w));
        height.ifPresent(h -> positive("height", h));
        channels.ifPresent(c -> {
            if (c != 1 && c != 3) {
                throw new EngineException("channels must be 1 (grayscale) or 3, not " + c);
            }
        });
        if (!(scale > 0) || !Double.isFinite(scale)) {
            throw new EngineException("scale must be a positive number, not " + scale);
        }
        if (mean.length != 1 && mean.length != 3 || std.length != 1 && std.length != 3) {
            throw new EngineException("mean and std take one value or one per channel (3)");
        }
        if (Arrays.stream(std).anyMatch(s -> !(s > 0))) {
            throw new EngineException("std values must be positive, not " + Arrays.toString(std));
        }
        mean = mean.clone();
        std = std.clone();
    }

    private static void positive(String what, int value) {
        if (value < 1) {
            throw new EngineException(what + " must be at least 1, not " + value);
        }
    }

    /** Pixels scaled to 0..1, nothing else; sizes and layout from the model. */
    public static ImageOptions defaults() {
        return new ImageOptions(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Fit.STRETCH,
                ChannelOrder.RGB, 1 / 255.0, new double[] {0}, new double[] {1});
    }

    /**
     * The preprocessing of common model families: {@code imagenet} (224x224 RGB, ImageNet mean and std),
     * {@code mnist} (28x28 grayscale, 0..1), {@code paddleocr-rec} (3x48xW BGR text lines, aspect kept up to
     * width 320, (x/255 - 0.5) / 0.5).
     */
    public static ImageOptions preset(String name) {
        requireNonNull(name, "name is null");
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "imagenet" -> new ImageOptions(Optional.of(224), Optional.of(224), Optional.of(3), Optional.empty(),
                    Fit.STRETCH, ChannelOrder.RGB, 1 / 255.0, new double[] {0.485, 0.456, 0.406},
                    new double[] {0.229, 0.224, 0.225});
            case "mnist" -> new ImageOptions(Optional.of(28), Optional.of(28), Optional.of(1), Optional.empty(), Fit.STRETCH,
                    ChannelOrder.RGB, 1 / 255.0, new double[] {0}, new double[] {1});
            case "paddleocr-rec" -> new ImageOptions(Optional.of(320), Optional.of(48), Optional.of(3),
                    Optional.of(Layout.NCHW), Fit.PAD, ChannelOrder.BGR, 1 / 255.0, new double[] {0.5}, new double[] {0.5});
            case "none" -> defaults();
            default -> throw new EngineException("unknown image preset '" + name + "'; known: " + String.join(", ", PRESETS));
        };
    }

    public ImageOptions withWidth(int value) {
        return new ImageOptions(Optional.of(value), height, channels, layout, fit, order, scale, mean, std);
    }

    public ImageOptions withHeight(int value) {
        return new ImageOptions(width, Optional.of(value), channels, layout, fit, order, scale, mean, std);
    }

    public ImageOptions withChannels(int value) {
        return new ImageOptions(width, height, Optional.of(value), layout, fit, order, scale, mean, std);
    }

    public ImageOptions withLayout(Layout value) {
        return new ImageOptions(width, height, channels, Optional.of(value), fit, order, scale, mean, std);
    }

    public ImageOptions withFit(Fit value) {
        return new ImageOptions(width, height, channels, layout, value, order, scale, mean, std);
    }

    public ImageOptions withOrder(ChannelOrder value) {
        return new ImageOptions(width, height, channels, layout, fit, value, scale, mean, std);
    }

    public ImageOptions withNormalization(double newScale, double[] newMean, double[] newStd) {
        return new ImageOptions(width, height, channels, layout, fit, order, newScale, newMean, newStd);
    }

    @Override
    public double[] mean() {
        return mean.clone();
    }

    @Override
    public double[] std() {
        return std.clone();
    }

    double meanOf(int channel) {
        return mean[mean.length == 1 ? 0 : channel];
    }

    double stdOf(int channel) {
        return std[std.length == 1 ? 0 : channel];
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s %s, %s, scale %s, mean %s, std %s", fit, order, layout.map(Enum::name)
                .orElse("layout from the model"), scale, Arrays.toString(mean), Arrays.toString(std));
    }
}

package io.modelpress.spi;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * The features an input of a model still takes after feature selection: indices along the last
 * axis of the input the model had before, ascending. A plugin that narrows an input records this
 * in the model's metadata (key {@code feature-selection:<input>}, value ranges such as
 * {@code 0-3,7,9-12}) so that callers, and the host when it compares a result with its original,
 * can cut their inputs to match.
 */
public record SelectedFeatures(String input, int[] originalIndices) {

    public static final String METADATA_PREFIX = "feature-selection:";

    public SelectedFeatures {
        originalIndices = originalIndices.clone();
    }

    @Override
    public int[] originalIndices() {
        return originalIndices.clone();
    }

    public String metadataKey() {
        return METADATA_PREFIX + input;
    }

    /** The indices as ascending ranges: "0-3,7,9-12". */
    public String metadataValue() {
        StringBuilder text = new StringBuilder();
        int i = 0;
        while (i < originalIndices.length) {
            int end = i;
            while (end + 1 < originalIndices.length && originalIndices[end + 1] == originalIndices[end] + 1) {
                end++;
            }
            if (text.length() > 0) {
                text.append(',');
            }
            text.append(originalIndices[i]);
            if (end > i) {
                text.append('-').append(originalIndices[end]);
            }
            i = end + 1;
        }
        return text.toString();
    }

    /** The selections recorded in a model's metadata; entries that are not well-formed ranges are ignored. */
    public static List<SelectedFeatures> fromMetadata(Map<String, String> metadata) {
        List<SelectedFeatures> selections = new ArrayList<>();
        metadata.forEach((key, value) -> {
            if (key.startsWith(METADATA_PREFIX)) {
                parseRanges(value).ifPresent(indices -> selections.add(
                        new SelectedFeatures(key.substring(METADATA_PREFIX.length()), indices)));
            }
        });
        return selections;
    }

    /** The indices written as {@link #metadataValue()} writes them, if the text is such a list. */
    public static Optional<int[]> parseRanges(String text) {
        try {
            return Optional.of(Arrays.stream(text.split(",")).flatMapToInt(part -> {
                String[] ends = part.split("-", 2);
                int from = Integer.parseInt(ends[0].trim());
                return IntStream.rangeClosed(from, ends.length == 1 ? from : Integer.parseInt(ends[1].trim()));
            }).toArray());
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** A full-width tensor of the original input cut to the selected features along its last axis. */
    public TensorData slice(TensorData full) {
        long[] shape = full.shape();
        if (shape.length == 0) {
            throw new IllegalArgumentException("input '" + input + "' is a scalar; it has no features to select");
        }
        int width = Math.toIntExact(shape[shape.length - 1]);
        int elementBytes = Math.toIntExact(full.type().byteSize(1));
        int rows = Math.toIntExact(full.elementCount() / Math.max(1, width));
        ByteBuffer source = full.data().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer target = ByteBuffer.allocate(rows * originalIndices.length * elementBytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int row = 0; row < rows; row++) {
            for (int index : originalIndices) {
                if (index >= width) {
                    throw new IllegalArgumentException("input '" + input + "' has " + width + " features; feature " + index
                            + " was selected");
                }
                int at = source.position() + (row * width + index) * elementBytes;
                for (int b = 0; b < elementBytes; b++) {
                    target.put(source.get(at + b));
                }
            }
        }
        long[] sliced = shape.clone();
        sliced[sliced.length - 1] = originalIndices.length;
        return new TensorData(full.type(), sliced, target.flip());
    }
}

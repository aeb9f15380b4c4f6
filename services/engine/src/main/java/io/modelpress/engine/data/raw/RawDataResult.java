package io.modelpress.engine.data.raw;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What {@link RawData} wrote.
 *
 * @param file the .npz written
 * @param examples examples along axis 0
 * @param arrays each array's shape by name (inputs, and {@code labels} when labelled)
 * @param classes class names by index when labelled, else empty
 * @param notes how the sources became values, one line each (sizes, tokenizer length, cut lines, windows)
 */
public record RawDataResult(Path file, int examples, Map<String, long[]> arrays, List<String> classes, List<String> notes) {

    public RawDataResult {
        requireNonNull(file, "file is null");
        requireNonNull(arrays, "arrays is null");
        arrays = Map.copyOf(arrays);
        classes = List.copyOf(requireNonNull(classes, "classes is null"));
        notes = List.copyOf(requireNonNull(notes, "notes is null"));
    }
}

package io.modelpress.engine.data.raw;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the class of each example comes from: nowhere (unlabelled data), the folder a file lies in
 * ({@code ROOT/CLASS/file}), or a CSV of {@code file,label} lines.
 *
 * @param kind which
 * @param csv the CSV file, for {@link Kind#CSV}
 */
public record LabelSource(Kind kind, Optional<Path> csv) {

    public enum Kind { NONE, FOLDERS, CSV }

    public LabelSource {
        requireNonNull(kind, "kind is null");
        requireNonNull(csv, "csv is null");
        if (kind == Kind.CSV != csv.isPresent()) {
            throw new IllegalArgumentException("a CSV file goes with kind CSV only");
        }
    }

    public static LabelSource none() {
        return new LabelSource(Kind.NONE, Optional.empty());
    }

    public static LabelSource folders() {
        return new LabelSource(Kind.FOLDERS, Optional.empty());
    }

    public static LabelSource csv(Path file) {
        return new LabelSource(Kind.CSV, Optional.of(requireNonNull(file, "file is null")));
    }
}

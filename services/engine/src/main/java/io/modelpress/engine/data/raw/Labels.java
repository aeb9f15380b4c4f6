package io.modelpress.engine.data.raw;

import io.modelpress.engine.EngineException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The class index of each source file. Class names that are all whole numbers ("0" to "9") are used
 * as the indices themselves; other names are numbered in sorted order, and {@link #classes} lists them.
 */
final class Labels {

    private final Map<Path, Long> byFile;
    private final List<String> classes;

    private Labels(Map<Path, Long> byFile, List<String> classes) {
        this.byFile = byFile;
        this.classes = classes;
    }

    /** Unlabelled: empty. */
    static Labels of(LabelSource source, Path root, List<Path> files) {
        return switch (source.kind()) {
            case NONE -> new Labels(Map.of(), List.of());
            case FOLDERS -> number(folders(root, files));
            case CSV -> number(csv(source.csv().orElseThrow(), root, files));
        };
    }

    boolean labelled() {
        return !byFile.isEmpty();
    }

    long of(Path file) {
        return byFile.get(file);
    }

    /** The class names, index i naming class i (numeric names: the names themselves). */
    List<String> classes() {
        return classes;
    }

    private static Map<Path, String> folders(Path root, List<Path> files) {
        Map<Path, String> names = new LinkedHashMap<>();
        for (Path file : files) {
            Path relative = root.relativize(file);
            if (relative.getNameCount() < 2) {
                throw new EngineException(file + ": not in a class folder; with labels from folders every file lies in "
                        + root + "/CLASS/");
            }
            names.put(file, relative.getName(0).toString());
        }
        return names;
    }

    /** {@code file,label} lines; a first line "file,label" is a header; file is relative to the root or a bare name. */
    private static Map<Path, String> csv(Path csv, Path root, List<Path> files) {
        Map<String, String> given = new HashMap<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new EngineException("labels file not found: " + csv);
        } catch (IOException e) {
            throw new EngineException(csv + ": cannot read (" + e.getMessage() + ")");
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || i == 0 && line.replace(" ", "").equalsIgnoreCase("file,label")) {
                continue;
            }
            int comma = line.lastIndexOf(',');
            if (comma <= 0 || comma == line.length() - 1) {
                throw new EngineException(csv + " line " + (i + 1) + ": expected 'file,label', got '" + line + "'");
            }
            given.put(line.substring(0, comma).strip().replace('\\', '/'), line.substring(comma + 1).strip());
        }
        Map<Path, String> names = new LinkedHashMap<>();
        for (Path file : files) {
            String relative = root.relativize(file).toString().replace('\\', '/');
            String name = given.getOrDefault(relative, given.get(file.getFileName().toString()));
            if (name == null) {
                throw new EngineException(file + ": no label in " + csv + " (give a line '" + relative + ",LABEL')");
            }
            names.put(file, name);
        }
        return names;
    }

    private static Labels number(Map<Path, String> names) {
        TreeSet<String> distinct = new TreeSet<>(names.values());
        boolean numeric = distinct.stream().allMatch(name -> name.matches("\\d{1,9}"));
        Map<String, Long> index = new HashMap<>();
        List<String> classes = new ArrayList<>();
        if (numeric) {
            distinct.forEach(name -> index.put(name, Long.parseLong(name)));
            long top = distinct.stream().mapToLong(Long::parseLong).max().orElse(-1);
            for (long i = 0; i <= top; i++) {
                classes.add(Long.toString(i));
            }
        } else {
            for (String name : distinct) {
                index.put(name, (long) classes.size());
                classes.add(name);
            }
        }
        Map<Path, Long> byFile = new LinkedHashMap<>();
        names.forEach((file, name) -> byFile.put(file, index.get(name)));
        return new Labels(byFile, List.copyOf(classes));
    }
}

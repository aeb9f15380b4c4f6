package io.modelpress.engine.data.raw;

import io.modelpress.engine.EngineException;
import io.modelpress.engine.data.NpzData;
import io.modelpress.engine.data.NpzWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Examples gathered per input, then written as one .npz array per input (examples along axis 0) and labels. */
final class ExampleArrays {

    /** More values than this (1 GiB of float32) are refused before memory runs out. */
    static final long MAX_VALUES = 1L << 28;

    /** One input's array under construction. */
    private static final class Column {
        final long[] exampleShape;
        final String type;
        final List<float[]> floats = new ArrayList<>();
        final List<long[]> longs = new ArrayList<>();
        /** A 0-d constant (a sample rate), the same for every example. */
        Long constant;

        Column(long[] exampleShape, String type) {
            this.exampleShape = exampleShape;
            this.type = type;
        }
    }

    private final Map<String, Column> columns = new LinkedHashMap<>();
    private final List<Long> labels = new ArrayList<>();
    private long values;

    /** @param type the model input's element type: float32, int64 or int32 */
    void declare(String input, long[] exampleShape, String type) {
        if (!type.equals("float") && !type.equals("int64") && !type.equals("int32")) {
            throw new EngineException("input '" + input + "' takes " + type + "; data is written for float32, int64 and int32 inputs");
        }
        columns.put(input, new Column(exampleShape.clone(), type));
    }

    void constant(String input, String type, long value) {
        declare(input, new long[0], type);
        columns.get(input).constant = value;
    }

    void add(String input, float[] example) {
        count(example.length);
        columns.get(input).floats.add(example);
    }

    void add(String input, long[] example) {
        count(example.length);
        columns.get(input).longs.add(example);
    }

    void label(long label) {
        labels.add(label);
    }

    private void count(long more) {
        values += more;
        if (values > MAX_VALUES) {
            throw new EngineException("the data grows beyond " + MAX_VALUES + " values; take fewer examples (--limit)");
        }
    }

    /** Shapes of the written arrays, by name, labels included. */
    Map<String, long[]> write(Path out, int examples) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        try {
            Path parent = out.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            try (NpzWriter writer = new NpzWriter(out)) {
                for (Map.Entry<String, Column> entry : columns.entrySet()) {
                    shapes.put(entry.getKey(), write(writer, entry.getKey(), entry.getValue(), examples));
                }
                if (!labels.isEmpty()) {
                    long[] values = labels.stream().mapToLong(Long::longValue).toArray();
                    writer.longs(NpzData.LABELS, new long[] {values.length}, values);
                    shapes.put(NpzData.LABELS, new long[] {values.length});
                }
            }
        } catch (IOException e) {
            throw new EngineException("cannot write " + out + ": " + e.getMessage(), e);
        }
        return shapes;
    }

    private static long[] write(NpzWriter writer, String name, Column column, int examples) throws IOException {
        if (column.constant != null) {
            writeLongs(writer, name, column.type, new long[0], new long[] {column.constant});
            return new long[0];
        }
        long[] shape = new long[column.exampleShape.length + 1];
        shape[0] = examples;
        System.arraycopy(column.exampleShape, 0, shape, 1, column.exampleShape.length);
        if (column.type.equals("float")) {
            writer.floats(name, shape, concatFloats(column.floats));
        } else {
            writeLongs(writer, name, column.type, shape, concatLongs(column.longs));
        }
        return shape;
    }

    private static void writeLongs(NpzWriter writer, String name, String type, long[] shape, long[] values) throws IOException {
        if (type.equals("int32")) {
            int[] ints = new int[values.length];
            for (int i = 0; i < ints.length; i++) {
                ints[i] = Math.toIntExact(values[i]);
            }
            writer.ints(name, shape, ints);
        } else {
            writer.longs(name, shape, values);
        }
    }

    private static float[] concatFloats(List<float[]> parts) {
        int total = parts.stream().mapToInt(part -> part.length).sum();
        float[] all = new float[total];
        int at = 0;
        for (float[] part : parts) {
            System.arraycopy(part, 0, all, at, part.length);
            at += part.length;
        }
        return all;
    }

    private static long[] concatLongs(List<long[]> parts) {
        int total = parts.stream().mapToInt(part -> part.length).sum();
        long[] all = new long[total];
        int at = 0;
        for (long[] part : parts) {
            System.arraycopy(part, 0, all, at, part.length);
            at += part.length;
        }
        return all;
    }
}

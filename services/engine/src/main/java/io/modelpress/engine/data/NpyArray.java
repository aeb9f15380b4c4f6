package io.modelpress.engine.data;

import io.modelpress.engine.EngineException;
import io.modelpress.model.DataType;
import io.modelpress.model.Shapes;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One array of a NumPy {@code .npy} file: element type, shape and little-endian values. Reads
 * format versions 1 to 3, C order, the types models take: float32/64, int8/16/32/64, uint8, bool.
 *
 * @param name the array's name (the entry name in an .npz, without ".npy")
 * @param type element type (float64 arrives converted to float32)
 * @param shape dims
 * @param data values, little-endian
 */
public record NpyArray(String name, DataType type, long[] shape, ByteBuffer data) {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([<>|=])([a-z])(\\d+)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    public NpyArray {
        shape = shape.clone();
        data = data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public ByteBuffer data() {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Parses the bytes of one .npy file. */
    static NpyArray parse(String name, byte[] file) {
        if (file.length < 10 || !Arrays.equals(Arrays.copyOf(file, 6), MAGIC)) {
            throw new EngineException("array '" + name + "' is not a NumPy .npy array (bad magic)");
        }
        int major = file[6];
        ByteBuffer in = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength;
        int headerStart;
        if (major == 1) {
            headerLength = in.getShort(8) & 0xffff;
            headerStart = 10;
        } else if (major == 2 || major == 3) {
            headerLength = in.getInt(8);
            headerStart = 12;
        } else {
            throw new EngineException("array '" + name + "' uses .npy format version " + major + "; versions 1 to 3 are read");
        }
        if (headerLength < 0 || headerStart + headerLength > file.length) {
            throw new EngineException("array '" + name + "' has a header longer than the file");
        }
        String header = new String(file, headerStart, headerLength, StandardCharsets.ISO_8859_1);
        Matcher descr = DESCR.matcher(header);
        Matcher fortran = FORTRAN.matcher(header);
        Matcher shapeText = SHAPE.matcher(header);
        if (!descr.find() || !shapeText.find()) {
            throw new EngineException("array '" + name + "' has an unreadable .npy header: " + header.strip());
        }
        if (fortran.find() && fortran.group(1).equals("True")) {
            throw new EngineException("array '" + name + "' is in Fortran order; save it in C order (numpy.ascontiguousarray)");
        }
        if (descr.group(1).equals(">") && !descr.group(3).equals("1")) {
            throw new EngineException("array '" + name + "' is big-endian; save it little-endian");
        }
        long[] shape = parseShape(name, shapeText.group(1));
        String kind = descr.group(2) + descr.group(3);
        DataType stored = switch (kind) {
            case "f4" -> DataType.FLOAT;
            case "f8" -> DataType.DOUBLE;
            case "i1" -> DataType.INT8;
            case "i2" -> DataType.INT16;
            case "i4" -> DataType.INT32;
            case "i8" -> DataType.INT64;
            case "u1" -> DataType.UINT8;
            case "b1" -> DataType.BOOL;
            default -> throw new EngineException("array '" + name + "' has element type '" + kind
                    + "'; supported: f4, f8, i1, i2, i4, i8, u1, b1");
        };
        long elements = Shapes.elementCount(name, Arrays.stream(shape).boxed().toList());
        long bytes = stored.byteSize(elements);
        int dataStart = headerStart + headerLength;
        if (file.length - dataStart != bytes) {
            throw new EngineException("array '" + name + "' declares shape " + Shapes.format(shape) + " (" + bytes
                    + " bytes) but holds " + (file.length - dataStart) + " bytes");
        }
        ByteBuffer values = ByteBuffer.wrap(file, dataStart, (int) bytes).slice().order(ByteOrder.LITTLE_ENDIAN);
        if (stored == DataType.DOUBLE) {
            ByteBuffer floats = ByteBuffer.allocate((int) (elements * 4)).order(ByteOrder.LITTLE_ENDIAN);
            for (long i = 0; i < elements; i++) {
                floats.putFloat((float) values.getDouble((int) (i * 8)));
            }
            return new NpyArray(name, DataType.FLOAT, shape, floats.flip());
        }
        return new NpyArray(name, stored, shape, values);
    }

    private static long[] parseShape(String name, String text) {
        String[] parts = text.split(",");
        return Arrays.stream(parts).map(String::trim).filter(part -> !part.isEmpty()).mapToLong(part -> {
            try {
                return Long.parseLong(part.replace("L", ""));
            } catch (NumberFormatException e) {
                throw new EngineException("array '" + name + "' has an unreadable shape (" + text + ")");
            }
        }).toArray();
    }
}

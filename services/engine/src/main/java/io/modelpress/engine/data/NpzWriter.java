package io.modelpress.engine.data;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes what {@code numpy.savez_compressed} writes: a zip of {@code NAME.npy} arrays (format 1.0,
 * little-endian, C order), the layout {@link NpzData} reads as calibration and evaluation data.
 */
public final class NpzWriter implements AutoCloseable {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    private static final int ALIGN = 64;

    private final ZipOutputStream zip;

    public NpzWriter(Path file) throws IOException {
        this(Files.newOutputStream(file));
    }

    public NpzWriter(OutputStream out) {
        this.zip = new ZipOutputStream(out);
    }

    public void floats(String name, long[] shape, float[] values) throws IOException {
        ByteBuffer data = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        data.asFloatBuffer().put(values);
        write(name, "<f4", shape, values.length, data.array());
    }

    public void ints(String name, long[] shape, int[] values) throws IOException {
        ByteBuffer data = ByteBuffer.allocate(values.length * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        data.asIntBuffer().put(values);
        write(name, "<i4", shape, values.length, data.array());
    }

    public void longs(String name, long[] shape, long[] values) throws IOException {
        ByteBuffer data = ByteBuffer.allocate(values.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        data.asLongBuffer().put(values);
        write(name, "<i8", shape, values.length, data.array());
    }

    private void write(String name, String descr, long[] shape, int count, byte[] data) throws IOException {
        if (Arrays.stream(shape).reduce(1, Math::multiplyExact) != count) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " does not hold " + count + " values");
        }
        zip.putNextEntry(new ZipEntry(name + ".npy"));
        zip.write(header(descr, shape));
        zip.write(data);
        zip.closeEntry();
    }

    /** Magic, version, header length, then the header dict padded with spaces to a multiple of 64 bytes. */
    private static byte[] header(String descr, long[] shape) {
        String dims = Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(", "));
        String dict = String.format(Locale.ROOT, "{'descr': '%s', 'fortran_order': False, 'shape': (%s%s), }", descr, dims,
                shape.length == 1 ? "," : "");
        int unpadded = MAGIC.length + 2 + dict.length() + 1;
        int padding = (ALIGN - unpadded % ALIGN) % ALIGN;
        String text = dict + " ".repeat(padding) + "\n";
        ByteBuffer header = ByteBuffer.allocate(MAGIC.length + 2 + text.length()).order(ByteOrder.LITTLE_ENDIAN);
        header.put(MAGIC).putShort((short) text.length()).put(text.getBytes(StandardCharsets.US_ASCII));
        return header.array();
    }

    @Override
    public void close() throws IOException {
        zip.close();
    }
}

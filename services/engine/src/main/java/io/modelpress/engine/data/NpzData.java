package io.modelpress.engine.data;

import io.modelpress.engine.EngineException;
import io.modelpress.model.DataType;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.TensorData;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Calibration and evaluation data from a NumPy {@code .npz} file (what {@code numpy.savez} writes):
 * one array per model input, named as the input, with the examples along axis 0, and optionally
 * an int array {@code labels} of shape [N] with the class of each example. The examples are cut
 * into samples of {@code batch} rows.
 */
public final class NpzData {

    /** The array that holds class labels, when the data is labelled. */
    public static final String LABELS = "labels";

    private NpzData() {
    }

    public static CalibrationData read(Path file, int batch, long maxBytes) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be at least 1");
        }
        Map<String, NpyArray> arrays = readArrays(file, maxBytes);
        NpyArray labels = arrays.remove(LABELS);
        if (arrays.isEmpty()) {
            throw new EngineException(file + " holds no input arrays (only labels, or nothing)");
        }
        long examples = -1;
        for (NpyArray array : arrays.values()) {
            if (array.shape().length == 0) {
                throw new EngineException(file + ": array '" + array.name() + "' is a scalar; inputs need examples along axis 0");
            }
            if (examples >= 0 && array.shape()[0] != examples) {
                throw new EngineException(file + ": array '" + array.name() + "' has " + array.shape()[0]
                        + " examples but the others have " + examples);
            }
            examples = array.shape()[0];
        }
        if (labels != null) {
            checkLabels(file, labels, examples);
        }
        List<Map<String, TensorData>> samples = new ArrayList<>();
        List<TensorData> labelSamples = new ArrayList<>();
        for (long start = 0; start < examples; start += batch) {
            long end = Math.min(examples, start + batch);
            Map<String, TensorData> sample = new LinkedHashMap<>();
            for (NpyArray array : arrays.values()) {
                sample.put(array.name(), rows(array, start, end));
            }
            samples.add(sample);
            if (labels != null) {
                labelSamples.add(labelRows(labels, start, end));
            }
        }
        return CalibrationData.of(samples, labelSamples);
    }

    private static Map<String, NpyArray> readArrays(Path file, long maxBytes) {
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            long total = 0;
            for (Enumeration<? extends ZipEntry> entries = zip.entries(); entries.hasMoreElements(); ) {
                ZipEntry entry = entries.nextElement();
                if (entry.isDirectory() || !entry.getName().endsWith(".npy")) {
                    continue;
                }
                long size = entry.getSize();
                total += Math.max(0, size);
                if (size < 0 || size > Integer.MAX_VALUE - 16 || total > maxBytes) {
                    throw new EngineException(file + " holds more than " + maxBytes + " bytes of arrays");
                }
                String name = entry.getName().substring(0, entry.getName().length() - 4);
                try (InputStream in = zip.getInputStream(entry)) {
                    arrays.put(name, NpyArray.parse(name, in.readNBytes((int) size)));
                }
            }
        } catch (NoSuchFileException e) {
            throw new EngineException("data file not found: " + file);
        } catch (ZipException e) {
            throw new EngineException(file + " is not an .npz file (not a zip archive)");
        } catch (IOException e) {
            throw new EngineException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return arrays;
    }

    private static void checkLabels(Path file, NpyArray labels, long examples) {
        if (labels.shape().length != 1 || labels.shape()[0] != examples) {
            throw new EngineException(file + ": 'labels' must have shape [" + examples + "] (one class per example), not "
                    + java.util.Arrays.toString(labels.shape()));
        }
        if (labels.type() != DataType.INT64 && labels.type() != DataType.INT32 && labels.type() != DataType.UINT8
                && labels.type() != DataType.INT16 && labels.type() != DataType.INT8) {
            throw new EngineException(file + ": 'labels' must hold integers, not " + labels.type().label());
        }
    }

    private static TensorData rows(NpyArray array, long start, long end) {
        long[] shape = array.shape();
        long rowElements = 1;
        for (int d = 1; d < shape.length; d++) {
            rowElements *= shape[d];
        }
        long rowBytes = array.type().byteSize(rowElements);
        ByteBuffer data = array.data();
        data.position((int) (start * rowBytes)).limit((int) (end * rowBytes));
        shape[0] = end - start;
        return new TensorData(array.type(), shape, data.slice());
    }

    private static TensorData labelRows(NpyArray labels, long start, long end) {
        long[] classes = new long[(int) (end - start)];
        ByteBuffer data = labels.data();
        for (int i = 0; i < classes.length; i++) {
            long index = start + i;
            classes[i] = switch (labels.type()) {
                case INT64 -> data.getLong((int) (index * 8));
                case INT32 -> data.getInt((int) (index * 4));
                case INT16 -> data.getShort((int) (index * 2));
                case UINT8 -> data.get((int) index) & 0xff;
                default -> data.get((int) index);
            };
        }
        return TensorData.ofLongs(new long[] {classes.length}, classes);
    }
}

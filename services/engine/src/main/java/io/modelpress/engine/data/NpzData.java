package io.modelpress.engine.data;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.modelpress.engine.EngineException;
import io.modelpress.model.DataType;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.TensorData;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Calibration and evaluation data from a NumPy {@code .npz} file (what {@code numpy.savez} writes):
 * one array per model input, named as the input, and optionally an int array {@code labels} of
 * shape [N] with the class of each of the N examples. An array holds its input's examples in one
 * of three ways:
 * <ul>
 * <li>rows: the input's own rank, the examples along axis 0 (the batch axis), cut into samples of
 * {@code batch} rows;
 * <li>whole inputs: one rank more, {@code [N, *input shape]}, one complete input tensor per example,
 * for inputs whose batch is not axis 0 (a recurrent state) or that have none (a scalar per example);
 * <li>a constant: a 0-d array for a scalar input, the same value for every example (a sample rate).
 * </ul>
 * When any array holds whole inputs, each sample is one example.
 */
public final class NpzData {

    /** The array that holds class labels, when the data is labelled. */
    public static final String LABELS = "labels";

    private NpzData() {
    }

    /** How an array holds its input's examples. */
    private enum Layout { ROWS, WHOLE, CONSTANT }

    /** The rank each graph input declares; inputs without a declared shape are absent. */
    public static Map<String, Integer> inputRanks(OnnxModel model) {
        GraphProto graph = model.proto().getGraph();
        Set<String> weights = new HashSet<>();
        graph.getInitializerList().forEach(weight -> weights.add(weight.getName()));
        Map<String, Integer> ranks = new LinkedHashMap<>();
        for (ValueInfoProto input : graph.getInputList()) {
            TypeProto type = input.getType();
            if (!weights.contains(input.getName()) && type.hasTensorType() && type.getTensorType().hasShape()) {
                ranks.put(input.getName(), type.getTensorType().getShape().getDimCount());
            }
        }
        return ranks;
    }

    /**
     * @param inputRanks each model input's rank (see {@link #inputRanks}), which tells the layouts apart
     * @param batch examples per sample for arrays of rows
     */
    public static CalibrationData read(Path file, Map<String, Integer> inputRanks, int batch, long maxBytes) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be at least 1");
        }
        Map<String, NpyArray> arrays = readArrays(file, maxBytes);
        NpyArray labels = arrays.remove(LABELS);
        if (arrays.isEmpty()) {
            throw new EngineException(file + " holds no input arrays (only labels, or nothing)");
        }
        Map<String, Layout> layouts = new LinkedHashMap<>();
        long examples = -1;
        for (NpyArray array : arrays.values()) {
            Layout layout = layout(file, array, inputRanks.get(array.name()));
            layouts.put(array.name(), layout);
            if (layout == Layout.CONSTANT) {
                continue;
            }
            if (examples >= 0 && array.shape()[0] != examples) {
                throw new EngineException(file + ": array '" + array.name() + "' has " + array.shape()[0]
                        + " examples but the others have " + examples);
            }
            examples = array.shape()[0];
        }
        if (examples < 0) {
            examples = 1; // constants only: one example
        }
        if (labels != null) {
            checkLabels(file, labels, examples);
        }
        int step = layouts.containsValue(Layout.WHOLE) ? 1 : batch;
        List<Map<String, TensorData>> samples = new ArrayList<>();
        List<TensorData> labelSamples = new ArrayList<>();
        for (long start = 0; start < examples; start += step) {
            long end = Math.min(examples, start + step);
            Map<String, TensorData> sample = new LinkedHashMap<>();
            for (NpyArray array : arrays.values()) {
                sample.put(array.name(), switch (layouts.get(array.name())) {
                    case ROWS -> rows(array, start, end);
                    case WHOLE -> whole(array, start);
                    case CONSTANT -> new TensorData(array.type(), array.shape(), array.data());
                });
            }
            samples.add(sample);
            if (labels != null) {
                labelSamples.add(labelRows(labels, start, end));
            }
        }
        return CalibrationData.of(samples, labelSamples);
    }

    /** Which layout an array uses, from its rank against its input's (rows when the input declares none). */
    private static Layout layout(Path file, NpyArray array, Integer inputRank) {
        int rank = array.shape().length;
        if (inputRank == null) {
            if (rank == 0) {
                throw new EngineException(file + ": array '" + array.name() + "' is a scalar; inputs need examples along axis 0");
            }
            return Layout.ROWS;
        }
        if (rank == inputRank + 1) {
            return Layout.WHOLE;
        }
        if (rank == inputRank) {
            return rank == 0 ? Layout.CONSTANT : Layout.ROWS;
        }
        throw new EngineException(file + ": array '" + array.name() + "' has shape " + Arrays.toString(array.shape())
                + " but the model's input has rank " + inputRank + ": give rank " + inputRank
                + " with the examples along axis 0, or rank " + (inputRank + 1) + " with one whole input per example");
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
                    + Arrays.toString(labels.shape()));
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

    /** Example {@code index} of an array of whole inputs: the tensor at that position along axis 0. */
    private static TensorData whole(NpyArray array, long index) {
        long[] shape = Arrays.copyOfRange(array.shape(), 1, array.shape().length);
        long elements = 1;
        for (long dim : shape) {
            elements *= dim;
        }
        long bytes = array.type().byteSize(elements);
        ByteBuffer data = array.data();
        data.position((int) (index * bytes)).limit((int) ((index + 1) * bytes));
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

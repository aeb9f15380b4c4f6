package io.modelpress.plugins.distillation;

import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import io.modelpress.model.DataType;
import io.modelpress.model.Shapes;
import io.modelpress.model.Tensors;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.ModelRunner;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.TensorData;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * The transfer set in memory, row by row: the inputs, the teacher's logits for them (what the
 * student learns to match) and the labels where the data has them.
 *
 * @param rows number of rows (samples may hold several rows each: their first axis is the batch)
 * @param rowShape the shape of one row (the input's shape without the batch axis)
 * @param inputs {@code rows × product(rowShape)} input values as float32
 * @param classes number of scores per row
 * @param teacherLogits {@code rows × classes}: the teacher's scores as logits (log-probabilities for a
 *     Softmax output; any per-row shift leaves the softmax the same)
 * @param labels class id per row, -1 where the row has no label
 */
record TransferSet(int rows, long[] rowShape, float[] inputs, int classes, float[] teacherLogits, int[] labels) {

    /** Probabilities below this are clamped before the log: a softmax output can hold exact zeros. */
    private static final float MIN_PROBABILITY = 1e-30f;

    TransferSet {
        rowShape = rowShape.clone();
        Objects.requireNonNull(inputs, "inputs is null");
        Objects.requireNonNull(teacherLogits, "teacherLogits is null");
        Objects.requireNonNull(labels, "labels is null");
    }

    @Override
    public long[] rowShape() {
        return rowShape.clone();
    }

    int rowSize() {
        return Math.toIntExact(Shapes.elementCount(rowShape));
    }

    int labelled() {
        return (int) Arrays.stream(labels).filter(label -> label >= 0).count();
    }

    /**
     * Checks every sample against the teacher's input, runs the teacher on it and keeps inputs,
     * logits and labels.
     */
    static TransferSet collect(Teacher teacher, CalibrationData data, ModelRunner runner, PluginContext context)
            throws PluginException {
        if (data.size() == 0) {
            throw new PluginException("the transfer set is empty: distillation needs calibration data with samples"
                    + " of input '" + teacher.inputName() + "'");
        }
        if (!data.inputNames().contains(teacher.inputName())) {
            throw new PluginException("the transfer set gives inputs " + data.inputNames() + " but the teacher's input is '"
                    + teacher.inputName() + "'");
        }
        List<float[]> inputs = new ArrayList<>();
        List<float[]> logits = new ArrayList<>();
        List<int[]> labels = new ArrayList<>();
        long[] rowShape = null;
        int classes = -1;
        long rows = 0;
        for (int s = 0; s < data.size(); s++) {
            context.checkCancelled();
            context.progress(StudentTrainer.START * s / data.size(),
                    "running the teacher on transfer sample " + (s + 1) + " of " + data.size());
            TensorData input = data.sample(s).get(teacher.inputName());
            if (input == null) {
                throw new PluginException("transfer sample " + s + " has no input '" + teacher.inputName() + "'");
            }
            long[] shape = checkInput(teacher, input, s);
            long[] thisRow = Arrays.copyOfRange(shape, 1, shape.length);
            if (rowShape == null) {
                rowShape = thisRow;
            } else if (!Arrays.equals(rowShape, thisRow)) {
                throw new PluginException("transfer sample " + s + " gives input '" + teacher.inputName() + "' rows of shape "
                        + Shapes.format(thisRow) + " but sample 0 gives " + Shapes.format(rowShape)
                        + "; every row must have the same shape");
            }
            int sampleRows = Math.toIntExact(shape[0]);
            rows += sampleRows;
            if ((rows * Math.max(1, Shapes.elementCount(rowShape))) > Integer.MAX_VALUE - 16) {
                throw new PluginException("the transfer set holds more input values than fit in memory at once ("
                        + rows + " rows of " + Shapes.format(rowShape) + "); supply fewer samples");
            }
            inputs.add(floats(input));
            float[] scores = runTeacher(teacher, runner, input, sampleRows, s);
            int sampleClasses = scores.length / sampleRows;
            if (classes >= 0 && sampleClasses != classes) {
                throw new PluginException("the teacher's output '" + teacher.outputName() + "' has " + sampleClasses
                        + " scores per row on transfer sample " + s + " but " + classes + " on sample 0");
            }
            classes = sampleClasses;
            logits.add(toLogits(teacher.head(), scores));
            labels.add(labels(data, s, sampleRows, classes));
        }
        return new TransferSet(Math.toIntExact(rows), rowShape, concat(inputs), classes, concat(logits),
                concatInts(labels));
    }

    private static long[] checkInput(Teacher teacher, TensorData input, int sample) throws PluginException {
        long[] shape = input.shape();
        String name = teacher.inputName();
        if (input.type() != teacher.inputType()) {
            throw new PluginException("transfer sample " + sample + " gives input '" + name + "' as "
                    + input.type().label() + " but the teacher takes " + teacher.inputType().label());
        }
        List<OptionalLong> declared = teacher.inputDims();
        boolean matches = declared.isEmpty() || declared.size() == shape.length;
        for (int i = 0; matches && i < declared.size(); i++) {
            matches = declared.get(i).isEmpty() || declared.get(i).getAsLong() == shape[i];
        }
        int neededRank = teacher.kind() == Teacher.Kind.CNN ? 4 : 0;
        if (!matches || shape.length < 2 || neededRank != 0 && shape.length != neededRank) {
            String expected = declared.isEmpty() ? (neededRank == 4 ? "[N,C,H,W]" : "[batch, features]")
                    : teacher.inputShapeText();
            throw new PluginException("transfer sample " + sample + " gives input '" + name + "' of shape "
                    + Shapes.format(shape) + " but the teacher takes " + expected);
        }
        if (Shapes.elementCount(shape) == 0) {
            throw new PluginException("transfer sample " + sample + " gives input '" + name + "' with no values (shape "
                    + Shapes.format(shape) + ")");
        }
        return shape;
    }

    private static float[] runTeacher(Teacher teacher, ModelRunner runner, TensorData input, int rows, int sample)
            throws PluginException {
        TensorData output = runner.run(Map.of(teacher.inputName(), input)).get(teacher.outputName());
        if (output == null) {
            throw new PluginException("the teacher gave no output '" + teacher.outputName() + "' on transfer sample "
                    + sample);
        }
        long[] shape = output.shape();
        if (shape.length != 2 || shape[0] != rows) {
            throw new PluginException("the teacher's output '" + teacher.outputName() + "' has shape "
                    + Shapes.format(shape) + " on transfer sample " + sample + " (" + rows
                    + " rows); distillation needs scores of shape [batch, classes]");
        }
        if (shape[1] < 2) {
            throw new PluginException("the teacher's output '" + teacher.outputName() + "' holds a single value per"
                    + " row, not scores over classes; distillation needs scores of shape [batch, classes] with at"
                    + " least 2 classes");
        }
        float[] scores = floats(output);
        int bad = Tensors.firstNonFinite(scores);
        if (bad >= 0) {
            throw new PluginException("the teacher's output '" + teacher.outputName() + "' is " + scores[bad]
                    + " on transfer sample " + sample + "; its scores must be finite to learn from");
        }
        return scores;
    }

    static float[] toLogits(Teacher.Head head, float[] scores) {
        if (head != Teacher.Head.SOFTMAX) {
            return scores;
        }
        float[] logits = new float[scores.length];
        for (int i = 0; i < scores.length; i++) {
            logits[i] = (float) Math.log(Math.max(scores[i], MIN_PROBABILITY));
        }
        return logits;
    }

    private static int[] labels(CalibrationData data, int sample, int rows, int classes) throws PluginException {
        int[] labels = new int[rows];
        Arrays.fill(labels, -1);
        TensorData tensor = data.labels(sample).orElse(null);
        if (tensor == null) {
            return labels;
        }
        if (tensor.type() != DataType.INT64 || tensor.elementCount() != rows) {
            throw new PluginException("the labels of transfer sample " + sample + " are " + tensor.type().label()
                    + Shapes.format(tensor.shape()) + "; expected int64 class ids, one for each of its " + rows + " rows");
        }
        LongBuffer values = tensor.data().asLongBuffer();
        for (int i = 0; i < rows; i++) {
            long label = values.get(i);
            if (label < 0 || label >= classes) {
                throw new PluginException("label " + label + " of transfer sample " + sample + " is not one of the"
                        + " teacher's " + classes + " classes (0.." + (classes - 1) + ")");
            }
            labels[i] = (int) label;
        }
        return labels;
    }

    /** Values of a floating-point tensor as float32. */
    static float[] floats(TensorData tensor) {
        if (tensor.type() == DataType.FLOAT) {
            return tensor.toFloats();
        }
        TensorProto.Builder proto = TensorProto.newBuilder().setName("value").setDataType(tensor.type().code())
                .setRawData(ByteString.copyFrom(tensor.data()));
        for (long dim : tensor.shape()) {
            proto.addDims(dim);
        }
        return Tensors.toFloats(proto.build());
    }

    private static float[] concat(List<float[]> parts) {
        float[] all = new float[parts.stream().mapToInt(part -> part.length).sum()];
        int at = 0;
        for (float[] part : parts) {
            System.arraycopy(part, 0, all, at, part.length);
            at += part.length;
        }
        return all;
    }

    private static int[] concatInts(List<int[]> parts) {
        int[] all = new int[parts.stream().mapToInt(part -> part.length).sum()];
        int at = 0;
        for (int[] part : parts) {
            System.arraycopy(part, 0, all, at, part.length);
            at += part.length;
        }
        return all;
    }
}

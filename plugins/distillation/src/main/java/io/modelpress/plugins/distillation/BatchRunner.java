package io.modelpress.plugins.distillation;

import io.modelpress.model.DataType;
import io.modelpress.model.Tensors;
import io.modelpress.spi.ModelRunner;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.TensorData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * Runs a model with the teacher's input and output (the teacher itself, or the student that
 * replaces it) on many rows at once, in batches that suit its declared input: a fixed batch size is
 * honoured by padding the last batch, which is then cut off again.
 */
final class BatchRunner {

    /** Rows per run when the batch axis is free. */
    private static final int FREE_BATCH = 512;

    private final Teacher teacher;
    private final ModelRunner runner;
    private final long[] rowShape;
    private final int classes;

    BatchRunner(Teacher teacher, ModelRunner runner, long[] rowShape, int classes) {
        this.teacher = Objects.requireNonNull(teacher, "teacher is null");
        this.runner = Objects.requireNonNull(runner, "runner is null");
        this.rowShape = rowShape.clone();
        this.classes = classes;
    }

    /** The output values, {@code rows × classes}, for {@code rows} rows of {@code inputs}. */
    float[] scores(float[] inputs, int rows) throws PluginException {
        int width = inputs.length / Math.max(1, rows);
        OptionalLong fixed = teacher.inputDims().isEmpty() ? OptionalLong.empty() : teacher.inputDims().get(0);
        int batch = fixed.isPresent() ? Math.toIntExact(fixed.getAsLong()) : FREE_BATCH;
        float[] scores = new float[rows * classes];
        for (int from = 0; from < rows; from += batch) {
            int count = fixed.isPresent() ? batch : Math.min(batch, rows - from);
            int real = Math.min(count, rows - from);
            float[] values = new float[count * width];
            System.arraycopy(inputs, from * width, values, 0, real * width);
            TensorData output = runner.run(Map.of(teacher.inputName(), tensor(teacher.inputType(), count, values)))
                    .get(teacher.outputName());
            if (output == null || output.elementCount() != (long) count * classes) {
                throw new PluginException("the model gave no [" + count + "," + classes + "] output '"
                        + teacher.outputName() + "' for " + count + " rows");
            }
            System.arraycopy(TransferSet.floats(output), 0, scores, from * classes, real * classes);
        }
        return scores;
    }

    /** Rows as a tensor of the input's type. */
    private TensorData tensor(DataType type, int rows, float[] values) {
        long[] shape = new long[rowShape.length + 1];
        shape[0] = rows;
        System.arraycopy(rowShape, 0, shape, 1, rowShape.length);
        return switch (type) {
            case FLOAT -> TensorData.ofFloats(shape, values);
            case FLOAT16 -> new TensorData(type, shape,
                    Tensors.ofFloat16("x", shape, values).getRawData().asReadOnlyByteBuffer());
            case BFLOAT16 -> new TensorData(type, shape,
                    Tensors.ofBfloat16("x", shape, values).getRawData().asReadOnlyByteBuffer());
            case DOUBLE -> {
                ByteBuffer bytes = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
                for (float value : values) {
                    bytes.putDouble(value);
                }
                yield new TensorData(type, shape, bytes.flip());
            }
            default -> throw new IllegalArgumentException("no " + type.label() + " input");
        };
    }
}

package io.modelpress.spi;

import io.modelpress.model.DataType;
import io.modelpress.model.Shapes;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * A dense tensor value passed to or returned from inference: element type, shape and the values
 * as little-endian bytes (the layout of ONNX raw_data).
 */
public record TensorData(DataType type, long[] shape, ByteBuffer data) {

    public TensorData {
        Objects.requireNonNull(type, "type is null");
        shape = shape.clone();
        data = data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        long expected = type.byteSize(Shapes.elementCount(shape));
        if (data.remaining() != expected) {
            throw new IllegalArgumentException("a " + type.label() + " tensor of shape " + Shapes.format(shape)
                    + " needs " + expected + " bytes, not " + data.remaining());
        }
    }

    public static TensorData ofFloats(long[] shape, float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        return new TensorData(DataType.FLOAT, shape, bytes);
    }

    public static TensorData ofLongs(long[] shape, long[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asLongBuffer().put(values);
        return new TensorData(DataType.INT64, shape, bytes);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public ByteBuffer data() {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    public long elementCount() {
        return Shapes.elementCount(shape);
    }

    /** The values of a float32 tensor. */
    public float[] toFloats() {
        if (type != DataType.FLOAT) {
            throw new IllegalStateException("a " + type.label() + " tensor has no float32 values");
        }
        float[] values = new float[Math.toIntExact(elementCount())];
        data().asFloatBuffer().get(values);
        return values;
    }
}

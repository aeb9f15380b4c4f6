package io.modelpress.inference;

import io.modelpress.model.DataType;
import io.modelpress.model.ModelException;
import io.modelpress.model.Shapes;
import io.modelpress.spi.TensorData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Inputs made from a model's declared input types and shapes, for when no data was supplied.
 * Deterministic for a seed. Symbolic dims take {@code batch} first and {@code symbolicDim}
 * elsewhere; floats are standard normal, integers 0 or 1 (always valid token ids and indices).
 */
public final class InputGenerator {

    private final int batch;
    private final int symbolicDim;

    public InputGenerator(int batch, int symbolicDim) {
        if (batch < 1 || symbolicDim < 1) {
            throw new IllegalArgumentException("batch and symbolic dims must be at least 1");
        }
        this.batch = batch;
        this.symbolicDim = symbolicDim;
    }

    public static InputGenerator defaults() {
        return new InputGenerator(1, 32);
    }

    /** {@code count} samples for the inputs of {@code specs}. */
    public List<Map<String, TensorData>> generate(Map<String, InputSpec> specs, int count, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Map<String, TensorData>> samples = new ArrayList<>();
        for (int s = 0; s < count; s++) {
            Map<String, TensorData> sample = new LinkedHashMap<>();
            for (InputSpec spec : specs.values()) {
                sample.put(spec.name(), generate(spec, random));
            }
            samples.add(sample);
        }
        return samples;
    }

    private TensorData generate(InputSpec spec, SplittableRandom random) {
        long[] shape = spec.shape();
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] < 0) {
                shape[d] = d == 0 ? batch : symbolicDim;
            }
        }
        int n = Shapes.arrayLength(spec.name(), Shapes.elementCount(shape));
        DataType type = spec.type();
        ByteBuffer data = ByteBuffer.allocate((int) type.byteSize(n)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            switch (type) {
                case FLOAT -> data.putFloat((float) gaussian(random));
                case DOUBLE -> data.putDouble(gaussian(random));
                case FLOAT16 -> data.putShort(io.modelpress.model.HalfFloats.floatToHalf((float) gaussian(random)));
                case INT64 -> data.putLong(random.nextInt(2));
                case INT32 -> data.putInt(random.nextInt(2));
                case INT8, UINT8, BOOL -> data.put((byte) random.nextInt(2));
                default -> throw new ModelException("cannot generate values for input '" + spec.name() + "' of type "
                        + type.label() + "; supply calibration data");
            }
        }
        data.flip();
        return new TensorData(type, shape, data);
    }

    private static double gaussian(SplittableRandom random) {
        // Box-Muller: SplittableRandom has no nextGaussian on Java 17
        double u = 1.0 - random.nextDouble();
        double v = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}

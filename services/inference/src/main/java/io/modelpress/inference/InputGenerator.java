package io.modelpress.inference;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.modelpress.model.DataType;
import io.modelpress.model.GraphPath;
import io.modelpress.model.ModelException;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Shapes;
import io.modelpress.model.Weight;
import io.modelpress.spi.TensorData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Inputs made from a model's declared input types and shapes, for when no data was supplied.
 * Deterministic for a seed. Symbolic dims take {@code batch} first and {@code symbolicDim}
 * elsewhere; floats are standard normal. An integer input that indexes a constant table (token ids
 * into an embedding) is drawn over the table's rows, as real ids spread over a vocabulary; other
 * integers are 0 or 1 (always valid indices and masks).
 */
public final class InputGenerator {

    private final int batch;
    private final int symbolicDim;
    private final Map<String, Long> indexBounds;

    public InputGenerator(int batch, int symbolicDim) {
        this(batch, symbolicDim, Map.of());
    }

    private InputGenerator(int batch, int symbolicDim, Map<String, Long> indexBounds) {
        if (batch < 1 || symbolicDim < 1) {
            throw new IllegalArgumentException("batch and symbolic dims must be at least 1");
        }
        this.batch = batch;
        this.symbolicDim = symbolicDim;
        this.indexBounds = Map.copyOf(indexBounds);
    }

    public static InputGenerator defaults() {
        return new InputGenerator(1, 32);
    }

    /** This generator, drawing each named integer input below its bound (see {@link #indexBounds}). */
    public InputGenerator withIndexBounds(Map<String, Long> bounds) {
        return new InputGenerator(batch, symbolicDim, bounds);
    }

    /**
     * The integer graph inputs that a Gather reads as indices into a constant table, with the
     * table's length along the gathered axis (the smallest, when one input indexes several tables).
     */
    public static Map<String, Long> indexBounds(OnnxModel model) {
        Set<String> inputs = new HashSet<>();
        model.proto().getGraph().getInputList().forEach(input -> inputs.add(input.getName()));
        Map<String, Long> bounds = new LinkedHashMap<>();
        for (NodeProto node : model.proto().getGraph().getNodeList()) {
            if (!node.getOpType().equals("Gather") || !node.getDomain().isEmpty() || node.getInputCount() < 2
                    || !inputs.contains(node.getInput(1))) {
                continue;
            }
            Optional<Weight> table = model.weights().get(new Weight.Ref(GraphPath.MAIN, node.getInput(0)));
            if (table.isEmpty() || table.get().rank() == 0) {
                continue;
            }
            int axis = (int) Nodes.intAttribute(node, "axis", 0);
            long rows = table.get().dims()[axis < 0 ? axis + table.get().rank() : axis];
            bounds.merge(node.getInput(1), rows, Math::min);
        }
        return bounds;
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
        long bound = Math.max(1, indexBounds.getOrDefault(spec.name(), 2L));
        DataType type = spec.type();
        ByteBuffer data = ByteBuffer.allocate((int) type.byteSize(n)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            switch (type) {
                case FLOAT -> data.putFloat((float) gaussian(random));
                case DOUBLE -> data.putDouble(gaussian(random));
                case FLOAT16 -> data.putShort(io.modelpress.model.HalfFloats.floatToHalf((float) gaussian(random)));
                case INT64 -> data.putLong(random.nextLong(bound));
                case INT32 -> data.putInt((int) random.nextLong(bound));
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

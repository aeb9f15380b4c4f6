package io.modelpress.plugins.quantization;

import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.model.DataType;
import io.modelpress.model.GraphPath;
import io.modelpress.model.HalfFloats;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Writes quantized weights into a model. Chooses the operator domain by the model's opset rather
 * than raising it (raising the default opset changes other operators' meaning): standard
 * DequantizeLinear where the opset has it (10+, per-axis 13+), else ONNX Runtime's
 * {@code com.microsoft} DequantizeLinear, which takes an axis at any opset.
 */
final class Writer {

    final OnnxModel model;
    final ModelEdit edit;
    final int opset;
    final boolean perChannel;
    final boolean symmetric;
    final WeightForm weightForm;
    private final Map<String, Integer> counts = new TreeMap<>();
    private final Map<String, Object> memo;

    /** How a weight whose reader computes in float is written. */
    enum WeightForm {
        /** DequantizeLinear: what runtimes that execute QDQ node groups (XNNPACK, NNAPI, QNN) look for. */
        DEQUANTIZE_LINEAR,
        /**
         * Cast and Mul: ONNX Runtime's CPU provider folds these constants back to a float weight at
         * load (it keeps DequantizeLinear unfolded, hoping to fuse it), so the model runs at fp32 speed.
         * A table only Gathers read is dequantized after each lookup instead, so it stays int8 in memory.
         */
        CAST_MUL
    }

    Writer(OnnxModel model, boolean perChannel, boolean symmetric, WeightForm weightForm) {
        this(model, perChannel, symmetric, weightForm, new HashMap<>());
    }

    /** A writer that shares {@code memo} with others of the same run: the automatic mode writes each weight many times. */
    Writer(OnnxModel model, boolean perChannel, boolean symmetric, WeightForm weightForm, Map<String, Object> memo) {
        this.memo = memo;
        this.model = model;
        this.edit = new ModelEdit(model.proto());
        this.opset = defaultOpset(model);
        this.perChannel = perChannel;
        this.symmetric = symmetric;
        this.weightForm = weightForm;
    }

    static int defaultOpset(OnnxModel model) {
        for (OperatorSetIdProto opset : model.proto().getOpsetImportList()) {
            if (opset.getDomain().isEmpty() || opset.getDomain().equals("ai.onnx")) {
                return (int) opset.getVersion();
            }
        }
        return 1;
    }

    /** Domain for QuantizeLinear/DequantizeLinear: the default one where this opset has the form needed. */
    String qdqDomain(boolean perAxis, DataType integer) {
        boolean standard = perAxis ? opset >= 13 : opset >= 10;
        if (integer == DataType.INT4 || integer == DataType.UINT4) {
            standard = opset >= 21;
        }
        return standard ? "" : ModelEdit.MS_DOMAIN;
    }

    /** A fresh writer on the same model and settings, sharing the memo. */
    Writer another() {
        return new Writer(model, perChannel, symmetric, weightForm, memo);
    }

    /** The value computed once per key and writer family (quantized tensors, which depend only on the key). */
    @SuppressWarnings("unchecked")
    <T> T memo(String key, Supplier<T> compute) {
        Object value = memo.get(key);
        if (value == null) {
            value = compute.get();
            memo.put(key, value);
        }
        return (T) value;
    }

    void count(String what) {
        counts.merge(what, 1, Integer::sum);
    }

    Map<String, Integer> counts() {
        return counts;
    }

    NodeProto consumer(Weight.Use use) {
        return edit.graph(use.graph()).getNode(use.nodeIndex());
    }

    float[] floats(Weight weight) {
        return Tensors.toFloats(model.weights().tensor(weight.ref()));
    }

    /** The per-channel axis for this weight as its first reader wants it, or -1 per tensor. */
    int axisFor(Weight weight) {
        if (!perChannel) {
            return -1;
        }
        Weight.Use use = weight.uses().get(0);
        return Consumers.channelAxis(weight.dims(), consumer(use), use.inputIndex());
    }

    /**
     * Replaces a weight by its integer values and a DequantizeLinear that recreates it under the
     * same name, so every reader (in any subgraph) is left as it is. ONNX Runtime folds such a
     * weight back to float at load where no integer kernel takes it: same speed, smaller file.
     */
    void dequantizeInPlace(Weight weight, QuantType type) {
        dequantizeInPlace(weight, type, weightForm);
    }

    void dequantizeInPlace(Weight weight, QuantType type, WeightForm form) {
        int axis = axisFor(weight);
        QuantizedTensor q = memo("linear " + weight.ref() + " " + type + " " + axis + " " + symmetric,
                () -> Quantizer.quantize(floats(weight), weight.dims(), axis, type, symmetric));
        edit.remove(weight);
        String label = type.name().toLowerCase(java.util.Locale.ROOT);
        if (form == WeightForm.DEQUANTIZE_LINEAR) {
            edit.addBeside(weight, dequantizeNode(weight, q, weight.name()));
            count(label + " weights read through DequantizeLinear");
        } else if (gatheredByRow(weight, q)) {
            gathered(weight, q);
            count(label + " embedding tables gathered in int8, dequantized after the lookup (kept in int8 while running)");
        } else {
            castMul(weight, q).forEach(node -> edit.addBeside(weight, node));
            count(weight.uses().stream().anyMatch(use -> use.opType().equals("EmbedLayerNormalization"))
                    ? label + " tables read by EmbedLayerNormalization through Cast and Mul (folded to float at load:"
                            + " no memory saving; leave embeddings unfused for that)"
                    : label + " weights read through Cast and Mul (folded to float at load: fp32 speed)");
        }
    }

    /**
     * Whether every reader of {@code weight} is a Gather on axis 0 and {@code q} has one scale per
     * row (or one in all): then each lookup can pick int8 rows and their scales itself.
     */
    private boolean gatheredByRow(Weight weight, QuantizedTensor q) {
        return (q.perTensor() || q.axis() == 0) && Writer.onlyRead(weight, "Gather", 0)
                && weight.uses().stream().allMatch(use -> {
                    long axis = Nodes.intAttribute(consumer(use), "axis", 0);
                    return axis == 0 || axis == -weight.rank();
                });
    }

    /**
     * Each Gather reading the table becomes Gather(int8 table, ids), Cast to float, then the
     * zero point and scale of the same rows: nothing in it is constant, so ONNX Runtime keeps the
     * int8 table instead of folding a float copy of it at load (Cast and Mul on the whole table
     * would). The values equal the Cast and Mul form's: the same rows, the same float arithmetic.
     * The scales and zero points are gathered with the same ids, so negative ids pick matching rows.
     */
    private void gathered(Weight weight, QuantizedTensor q) {
        Factors factors = storeFactors(weight, q);
        for (Weight.Use use : weight.uses()) {
            NodeProto gather = consumer(use);
            String ids = gather.getInput(1);
            String output = gather.getOutput(0);
            List<NodeProto> nodes = new ArrayList<>();
            String rows = edit.fresh(output + "_quantized");
            nodes.add(edit.node("Gather", List.of(factors.values(), ids), List.of(rows)));
            String asFloat = edit.fresh(output + "_cast");
            nodes.add(edit.node("Cast", List.of(rows), List.of(asFloat), Nodes.attr("to", (long) DataType.FLOAT.code())));
            if (factors.zeroPoint() != null) {
                String centred = edit.fresh(output + "_centred");
                nodes.add(edit.node("Sub", List.of(asFloat, rowsOf(factors.zeroPoint(), ids, q, nodes)), List.of(centred)));
                asFloat = centred;
            }
            nodes.add(edit.node("Mul", List.of(asFloat, rowsOf(factors.scale(), ids, q, nodes)), List.of(output)));
            edit.replace(use.graph(), use.nodeIndex(), nodes);
        }
    }

    /** The per-row factor's rows for {@code ids} (a Gather added to {@code nodes}), or the one factor as it is. */
    private String rowsOf(String factor, String ids, QuantizedTensor q, List<NodeProto> nodes) {
        if (q.perTensor()) {
            return factor;
        }
        String rows = edit.fresh(factor + "_rows");
        nodes.add(edit.node("Gather", List.of(factor, ids), List.of(rows)));
        return rows;
    }

    /** The stored integer values, float scale and float zero point (null when all are zero) of a Cast and Mul form. */
    private record Factors(String values, String scale, String zeroPoint) {
    }

    /**
     * Keeps a float weight's compute in float but stores it as fp16 under a Cast that recreates it
     * under the same name: ONNX Runtime folds the Cast at load, so the model runs as before from a
     * file that holds half the bytes for this weight. A weight with a value fp16 cannot hold (beyond
     * 65504, or not finite) stays fp32, and so does one whose fp16 copy rounds a nonzero value to zero.
     *
     * @return whether the weight was stored as fp16
     */
    boolean halfInPlace(Weight weight) {
        float[] values = floats(weight);
        for (float value : values) {
            if (!Float.isFinite(value) || Math.abs(value) > HalfFloats.HALF_MAX
                    || (value != 0 && HalfFloats.floatToHalf(value) == 0)) {
                return false;
            }
        }
        edit.remove(weight);
        String half = edit.store(weight, weight.name() + "_fp16", Tensors.ofFloat16("", weight.dims(), values));
        edit.addBeside(weight, edit.node("Cast", List.of(half), List.of(weight.name()),
                Nodes.attr("to", (long) DataType.FLOAT.code())));
        count("float weights stored as fp16 (read through a Cast folded to float at load: fp32 compute)");
        return true;
    }

    /** (float(q) - zeroPoint) * scale with scale and zero point shaped to broadcast along the axis. */
    private List<NodeProto> castMul(Weight weight, QuantizedTensor q) {
        Factors factors = storeFactors(weight, q);
        List<NodeProto> nodes = new ArrayList<>();
        String asFloat = edit.fresh(weight.name() + "_cast");
        nodes.add(edit.node("Cast", List.of(factors.values()), List.of(asFloat),
                Nodes.attr("to", (long) DataType.FLOAT.code())));
        if (factors.zeroPoint() != null) {
            String centred = edit.fresh(weight.name() + "_centred");
            nodes.add(edit.node("Sub", List.of(asFloat, factors.zeroPoint()), List.of(centred)));
            asFloat = centred;
        }
        nodes.add(edit.node("Mul", List.of(asFloat, factors.scale()), List.of(weight.name())));
        return nodes;
    }

    /** Stores q's values, and its scales and zero points as floats shaped to broadcast along its axis. */
    private Factors storeFactors(Weight weight, QuantizedTensor q) {
        String base = weight.name();
        long[] shape = new long[q.perTensor() ? 0 : q.dims().length - q.axis()];
        if (shape.length > 0) {
            java.util.Arrays.fill(shape, 1);
            shape[0] = q.scales().length;
        }
        String values = edit.store(weight, base + "_quantized", q.valuesTensor(""));
        String scale = edit.store(weight, base + "_scale", Tensors.ofFloats("", shape, q.scales()));
        if (java.util.Arrays.stream(q.zeroPoints()).allMatch(z -> z == 0)) {
            return new Factors(values, scale, null);
        }
        float[] zeros = new float[q.zeroPoints().length];
        for (int i = 0; i < zeros.length; i++) {
            zeros[i] = q.zeroPoints()[i];
        }
        return new Factors(values, scale, edit.store(weight, base + "_zero_point", Tensors.ofFloats("", shape, zeros)));
    }

    /** Stores {@code q} beside {@code weight} and returns a DequantizeLinear producing {@code output}. */
    NodeProto dequantizeNode(Weight weight, QuantizedTensor q, String output) {
        String base = weight.name();
        String values = edit.store(weight, base + "_quantized", q.valuesTensor(""));
        String scale = edit.store(weight, base + "_scale", q.scaleTensor(""));
        String zero = edit.store(weight, base + "_zero_point", q.zeroPointTensor(""));
        NodeProto node = q.perTensor()
                ? edit.node("DequantizeLinear", List.of(values, scale, zero), List.of(output))
                : edit.node("DequantizeLinear", List.of(values, scale, zero), List.of(output), Nodes.attr("axis", q.axis()));
        return edit.inDomain(node, qdqDomain(!q.perTensor(), q.type().dataType()));
    }

    /** A scalar or 1-D float initializer in {@code graph}. */
    String constant(GraphPath graph, String base, float[] values, boolean scalar) {
        String name = edit.fresh(base);
        TensorProto tensor = scalar ? Tensors.scalarFloat(name, values[0])
                : Tensors.ofFloats(name, new long[] {values.length}, values);
        edit.addInitializer(graph, tensor);
        return name;
    }

    /** Whether every reader of the weight is input {@code input} of {@code opType} in the default domain. */
    static boolean onlyRead(Weight weight, String opType, int input) {
        return weight.onlyUsedAs(opType, input);
    }

    /** Row-major transpose of a [rows, cols] matrix. */
    static float[] transpose(float[] values, int rows, int cols) {
        float[] out = new float[values.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[c * rows + r] = values[r * cols + c];
            }
        }
        return out;
    }

    /** Lines for the report, one per kind of change. */
    List<String> changeLines() {
        List<String> lines = new ArrayList<>();
        counts.forEach((what, n) -> lines.add(n + " " + what));
        return lines;
    }
}

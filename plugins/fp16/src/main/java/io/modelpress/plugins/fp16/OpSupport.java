package io.modelpress.plugins.fp16;

import ai.onnx.proto.OnnxMl.NodeProto;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which operators may compute in half precision, and which of their inputs and outputs follow
 * the compute type.
 *
 * <p>float16: operators whose ONNX type constraints admit float16 and for which ONNX Runtime's
 * CUDA provider has float16 kernels. ONNX Runtime's CPU provider has float16 kernels for few of
 * them, but it inserts Casts around every float16 node it cannot run, so such a model still runs
 * on CPU (slower than float32). Everything else keeps float32 with Casts around it.
 *
 * <p>bfloat16: ONNX admits bfloat16 for most operators only from opset 13 (some later), and ONNX
 * Runtime has bfloat16 kernels for a short list of operators on CUDA only (its CPU provider runs
 * almost none and does not insert Casts for bfloat16). Each entry therefore carries the first
 * opset whose schema allows bfloat16; the list is the CUDA provider's bfloat16 kernels plus the
 * type-agnostic data-movement operators.
 */
final class OpSupport {

    /** How an input or output of a converted node is typed. */
    enum Role {
        /** Follows the compute type: becomes half when the node computes in half. */
        T,
        /** Takes any type as it is (Shape's input, Cast's input): never needs a Cast. */
        ANY,
        /** A float input or output the schema fixes to float32 (Resize scales, LayerNorm's mean). */
        FIXED
    }

    private static final Set<String> FLOAT16 = Set.of(
            "Abs", "Add", "ArgMax", "ArgMin", "AveragePool", "BatchNormalization", "Cast", "CastLike", "Ceil", "Clip",
            "Concat", "ConstantOfShape", "Conv", "ConvTranspose", "Cos", "DepthToSpace", "Div", "Dropout", "Einsum",
            "Elu", "Equal", "Erf", "Exp", "Expand", "Flatten", "Floor", "Gather", "GatherElements", "GatherND", "Gelu",
            "Gemm", "GlobalAveragePool", "GlobalMaxPool", "Greater", "GreaterOrEqual", "GRU", "HardSigmoid",
            "HardSwish", "Identity", "If", "InstanceNormalization", "IsNaN", "LayerNormalization", "LeakyRelu", "Less",
            "LessOrEqual", "Log", "LogSoftmax", "LRN", "LSTM", "MatMul", "Max", "MaxPool", "Mean", "Min", "Mish", "Mul",
            "Neg", "Pad", "Pow", "PRelu", "Reciprocal", "ReduceL2", "ReduceMax", "ReduceMean", "ReduceMin",
            "ReduceSum", "ReduceSumSquare", "Relu", "Reshape", "Resize", "RNN", "Round", "ScatterElements",
            "ScatterND", "Selu", "Shape", "Sigmoid", "Sign", "Sin", "Size", "Slice", "Softmax", "Softplus",
            "Softsign", "SpaceToDepth", "Split", "Sqrt", "Squeeze", "Sub", "Sum", "Tanh", "ThresholdedRelu", "Tile",
            "Transpose", "Trilu", "Unsqueeze", "Upsample", "Where");

    /** Operator → first opset whose ONNX schema admits bfloat16 where the operator needs it. */
    private static final Map<String, Integer> BFLOAT16 = Map.ofEntries(
            Map.entry("Add", 13), Map.entry("Sub", 13), Map.entry("Mul", 13), Map.entry("Div", 13),
            Map.entry("MatMul", 13), Map.entry("Gemm", 13), Map.entry("Softmax", 13), Map.entry("Relu", 13),
            Map.entry("Sigmoid", 13), Map.entry("Tanh", 13), Map.entry("ReduceSum", 13),
            Map.entry("LayerNormalization", 17), Map.entry("Cast", 13), Map.entry("CastLike", 15),
            Map.entry("Reshape", 13), Map.entry("Transpose", 13), Map.entry("Squeeze", 13),
            Map.entry("Unsqueeze", 13), Map.entry("Flatten", 13), Map.entry("Concat", 13), Map.entry("Split", 13),
            Map.entry("Slice", 13), Map.entry("Gather", 13), Map.entry("GatherElements", 13),
            Map.entry("Identity", 13), Map.entry("Expand", 13), Map.entry("Shape", 13), Map.entry("Size", 13),
            Map.entry("If", 13));

    /** Why some well-known operators stay float32, where the general reason would say too little. */
    private static final Map<String, String> REASONS = Map.ofEntries(
            Map.entry("Range", "ONNX's Range has no half-precision type"),
            Map.entry("TopK", "ranking kept in float32: half precision reorders near-equal scores"),
            Map.entry("CumSum", "running sums kept in float32: they lose precision fast in half"),
            Map.entry("NonMaxSuppression", "ONNX's NonMaxSuppression takes float32 boxes only"),
            Map.entry("RoiAlign", "ONNX Runtime's CPU RoiAlign has no half kernel"),
            Map.entry("QuantizeLinear", "quantization scales stay float32"),
            Map.entry("DequantizeLinear", "quantization scales stay float32"),
            Map.entry("DynamicQuantizeLinear", "quantization scales stay float32"),
            Map.entry("RandomNormal", "random generators run in float32 in ONNX Runtime"),
            Map.entry("RandomUniform", "random generators run in float32 in ONNX Runtime"),
            Map.entry("RandomNormalLike", "random generators run in float32 in ONNX Runtime"),
            Map.entry("RandomUniformLike", "random generators run in float32 in ONNX Runtime"),
            Map.entry("Multinomial", "random generators run in float32 in ONNX Runtime"),
            Map.entry("Bernoulli", "random generators run in float32 in ONNX Runtime"),
            Map.entry("EyeLike", "ONNX Runtime's EyeLike has no half kernel"));

    private OpSupport() {
    }

    /** Operator → first opset whose schema admits bfloat16, for tests that check the table against ONNX Runtime. */
    static Map<String, Integer> bfloat16Since() {
        return BFLOAT16;
    }

    static Set<String> float16Operators() {
        return FLOAT16;
    }

    static boolean isLoop(NodeProto node) {
        return ElementTypes.isDefaultDomain(node) && (node.getOpType().equals("Loop") || node.getOpType().equals("Scan"));
    }

    static boolean isIf(NodeProto node) {
        return ElementTypes.isDefaultDomain(node) && node.getOpType().equals("If");
    }

    /** Empty when {@code node} can compute in {@code type} at {@code opset}; otherwise why it cannot. */
    static Optional<String> unsupported(NodeProto node, HalfType type, long opset) {
        if (!ElementTypes.isDefaultDomain(node)) {
            return Optional.of("operators of domain '" + node.getDomain() + "' are not converted");
        }
        String op = node.getOpType();
        if (type == HalfType.FP16) {
            if (FLOAT16.contains(op)) {
                return Optional.empty();
            }
            return Optional.of(REASONS.getOrDefault(op, "no float16 kernel in ONNX Runtime (CPU and CUDA) "
                    + "this plugin relies on, or type constraints that need float32"));
        }
        Integer since = BFLOAT16.get(op);
        if (since == null) {
            return Optional.of(REASONS.getOrDefault(op, "no bfloat16 kernel in ONNX Runtime's CUDA provider"));
        }
        if (opset < since) {
            return Optional.of("ONNX admits bfloat16 for " + op + " only from opset " + since + "; the model uses opset " + opset);
        }
        return Optional.empty();
    }

    /** The role of float input {@code index} when {@code node} computes in half. */
    static Role inputRole(NodeProto node, int index) {
        return switch (node.getOpType()) {
            case "Shape", "Size", "Cast" -> Role.ANY;
            case "CastLike" -> index == 0 ? Role.ANY : Role.T;
            // Resize: roi and scales (opset 11+), scales (opset 10); Upsample: scales. Dropout: ratio.
            case "Resize", "Upsample", "Dropout" -> index == 0 ? Role.T : Role.FIXED;
            default -> Role.T;
        };
    }

    /** The role of float output {@code index} when {@code node} computes in half. */
    static Role outputRole(NodeProto node, int index) {
        if (node.getOpType().equals("LayerNormalization") && index > 0) {
            return Role.FIXED; // Mean and InvStdDev are of the stash type, float32
        }
        return Role.T;
    }

    /** Inputs that are shapes, sizes or positions even when they are float: Range's bounds. */
    static boolean isShapeInput(NodeProto node, int index) {
        return ElementTypes.isDefaultDomain(node) && node.getOpType().equals("Range");
    }
}

package io.modelpress.plugins.fp16;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.modelpress.model.DataType;
import io.modelpress.model.ModelException;
import io.modelpress.model.Nodes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/**
 * Element types of node outputs from the types of their inputs, by the rules of the ONNX operator
 * schemas. Only element types: shapes do not matter for choosing casts. An operator this class
 * does not know gets {@link DataType#UNDEFINED}; the caller then falls back on the graph's
 * declared value_info, and a value whose type stays unknown is never converted.
 */
final class ElementTypes {

    /** Default-domain operators whose every output has the element type of their first input. */
    private static final Set<String> SAME_AS_INPUT = Set.of(
            "Abs", "Acos", "Acosh", "Add", "AffineGrid", "Asin", "Asinh", "Atan", "Atanh", "AveragePool",
            "BatchNormalization", "BitShift", "BitwiseAnd", "BitwiseNot", "BitwiseOr", "BitwiseXor", "Ceil", "Celu",
            "CenterCropPad", "Clip", "Col2Im", "Compress", "Concat", "Conv", "ConvTranspose", "Cos", "Cosh", "CumSum",
            "DepthToSpace", "Det", "DFT", "Div", "Einsum", "Elu", "Erf", "Exp", "Expand", "Flatten", "Floor", "Gather",
            "GatherElements", "GatherND", "Gelu", "Gemm", "GlobalAveragePool", "GlobalLpPool", "GlobalMaxPool",
            "GridSample", "GroupNormalization", "GRU", "Hardmax", "HardSigmoid", "HardSwish", "Identity",
            "InstanceNormalization", "LeakyRelu", "Log", "LogSoftmax", "LpNormalization", "LpPool", "LRN", "LSTM",
            "MatMul", "Max", "MaxRoiPool", "MaxUnpool", "Mean", "MeanVarianceNormalization", "Min", "Mish", "Mod",
            "Mul", "Neg", "Pad", "Pow", "PRelu", "Reciprocal", "ReduceL1", "ReduceL2", "ReduceLogSum",
            "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare",
            "Relu", "Reshape", "Resize", "ReverseSequence", "RNN", "RoiAlign", "Round", "Scatter", "ScatterElements",
            "ScatterND", "Selu", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Slice", "Softmax", "Softplus",
            "Softsign", "SpaceToDepth", "Split", "Sqrt", "Squeeze", "STFT", "Sub", "Sum", "Tan", "Tanh",
            "ThresholdedRelu", "Tile", "Transpose", "Trilu", "Unsqueeze", "Upsample", "Range");

    /** Operators whose inputs all share one type, any of which tells it. */
    private static final Set<String> VARIADIC = Set.of("Concat", "Einsum", "Max", "Mean", "Min", "Sum");

    private static final Set<String> INT64_OUT = Set.of("Shape", "Size", "NonZero", "ArgMax", "ArgMin",
            "NonMaxSuppression");

    private static final Set<String> BOOL_OUT = Set.of("Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual",
            "And", "Or", "Xor", "Not", "IsNaN", "IsInf", "RegexFullMatch");

    private ElementTypes() {
    }

    /** Whether the domain is ONNX's default one, however it is spelt. */
    static boolean isDefaultDomain(NodeProto node) {
        return node.getDomain().isEmpty() || node.getDomain().equals("ai.onnx");
    }

    /**
     * Output element types of {@code node}.
     *
     * @param inputs element types of its inputs (UNDEFINED for missing optional inputs)
     * @param subgraphOutputs for If, the then-branch's output types; for Loop and Scan, the body's
     */
    static List<DataType> outputs(NodeProto node, List<DataType> inputs, List<DataType> subgraphOutputs) {
        int count = node.getOutputCount();
        if (node.getDomain().equals("com.microsoft")) {
            return contrib(node.getOpType(), inputs, count);
        }
        if (!isDefaultDomain(node)) {
            return repeat(DataType.UNDEFINED, count);
        }
        String op = node.getOpType();
        if (VARIADIC.contains(op)) {
            return repeat(firstDefined(inputs), count);
        }
        if (SAME_AS_INPUT.contains(op)) {
            return repeat(input(inputs, 0), count);
        }
        if (INT64_OUT.contains(op)) {
            return repeat(DataType.INT64, count);
        }
        if (BOOL_OUT.contains(op)) {
            return repeat(DataType.BOOL, count);
        }
        return switch (op) {
            case "Cast" -> repeat(attributeType(node, "to", DataType.UNDEFINED), count);
            case "CastLike" -> repeat(input(inputs, 1), count);
            case "Constant" -> repeat(constantType(node), count);
            case "ConstantOfShape" -> repeat(Nodes.attribute(node, "value")
                    .map(a -> DataType.of(a.getT().getDataType())).orElse(DataType.FLOAT), count);
            case "RandomNormal", "RandomUniform" -> repeat(attributeType(node, "dtype", DataType.FLOAT), count);
            case "RandomNormalLike", "RandomUniformLike", "EyeLike", "Bernoulli" ->
                    repeat(attributeType(node, "dtype", input(inputs, 0)), count);
            case "Multinomial" -> repeat(attributeType(node, "dtype", DataType.INT32), count);
            case "MelWeightMatrix", "HannWindow", "HammingWindow", "BlackmanWindow" ->
                    repeat(attributeType(node, "output_datatype", DataType.FLOAT), count);
            case "Where" -> repeat(input(inputs, 1) != DataType.UNDEFINED ? input(inputs, 1) : input(inputs, 2), count);
            case "OneHot" -> repeat(input(inputs, 2), count);
            case "TopK", "MaxPool" -> withFirst(input(inputs, 0), DataType.INT64, count);
            case "Unique" -> withFirst(input(inputs, 0), DataType.INT64, count);
            case "Dropout" -> withFirst(input(inputs, 0), DataType.BOOL, count);
            case "LayerNormalization" -> withFirst(input(inputs, 0), DataType.FLOAT, count);
            case "QuantizeLinear" -> repeat(attributeType(node, "output_dtype",
                    input(inputs, 2) != DataType.UNDEFINED ? input(inputs, 2) : DataType.UINT8), count);
            case "DequantizeLinear" -> repeat(attributeType(node, "output_dtype", input(inputs, 1)), count);
            case "DynamicQuantizeLinear" -> List.of(DataType.UINT8, DataType.FLOAT, DataType.UINT8).subList(0, count);
            case "MatMulInteger", "ConvInteger" -> repeat(DataType.INT32, count);
            case "QLinearMatMul", "QLinearConv" -> repeat(input(inputs, 7), count);
            case "If", "Loop", "Scan" -> controlFlow(op, subgraphOutputs, count);
            default -> repeat(DataType.UNDEFINED, count);
        };
    }

    /**
     * ONNX Runtime's own operators that its extended optimisation level writes, so that a graph
     * optimised that way can still be typed. They are never converted themselves.
     */
    private static List<DataType> contrib(String op, List<DataType> inputs, int count) {
        return switch (op) {
            case "FusedConv", "FusedGemm", "FusedMatMul", "QuickGelu", "Gelu", "FastGelu", "BiasGelu", "BiasAdd",
                    "BiasSoftmax", "Attention", "MultiHeadAttention", "RotaryEmbedding", "NhwcConv", "MatMulNBits",
                    "BiasSplitGelu", "GroupNorm" -> repeat(input(inputs, 0), count);
            case "SkipLayerNormalization", "SkipSimplifiedLayerNormalization" -> {
                List<DataType> types = new ArrayList<>(withFirst(input(inputs, 0), DataType.FLOAT, count));
                if (count > 3) {
                    types.set(3, input(inputs, 0)); // input + skip (+ bias)
                }
                yield types;
            }
            case "LayerNormalization", "SimplifiedLayerNormalization" -> withFirst(input(inputs, 0), DataType.FLOAT, count);
            case "DynamicQuantizeMatMul", "MatMulIntegerToFloat" -> repeat(DataType.FLOAT, count);
            default -> repeat(DataType.UNDEFINED, count);
        };
    }

    /** The types an ONNX value info declares; UNDEFINED when it declares none or no tensor. */
    static DataType declared(ValueInfoProto info) {
        if (!info.hasType() || !info.getType().hasTensorType()) {
            return DataType.UNDEFINED;
        }
        int code = info.getType().getTensorType().getElemType();
        try {
            return DataType.of(code);
        } catch (ModelException unknown) {
            return DataType.UNDEFINED;
        }
    }

    private static List<DataType> controlFlow(String op, List<DataType> subgraph, int count) {
        // If: outputs are the branch's outputs. Loop: the body's outputs after its condition.
        // Scan: the body's outputs (state variables, then scan outputs).
        int skip = op.equals("Loop") ? 1 : 0;
        List<DataType> types = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            types.add(i + skip < subgraph.size() ? subgraph.get(i + skip) : DataType.UNDEFINED);
        }
        return types;
    }

    private static DataType constantType(NodeProto node) {
        for (AttributeProto attribute : node.getAttributeList()) {
            switch (attribute.getName()) {
                case "value":
                    return DataType.of(attribute.getT().getDataType());
                case "sparse_value":
                    return DataType.of(attribute.getSparseTensor().getValues().getDataType());
                case "value_float", "value_floats":
                    return DataType.FLOAT;
                case "value_int", "value_ints":
                    return DataType.INT64;
                case "value_string", "value_strings":
                    return DataType.STRING;
                default:
                    break;
            }
        }
        return DataType.UNDEFINED;
    }

    private static DataType attributeType(NodeProto node, String name, DataType otherwise) {
        return Nodes.attribute(node, name).map(a -> {
            try {
                return DataType.of((int) a.getI());
            } catch (ModelException unknown) {
                return DataType.UNDEFINED;
            }
        }).orElse(otherwise);
    }

    private static DataType input(List<DataType> inputs, int index) {
        return index < inputs.size() ? inputs.get(index) : DataType.UNDEFINED;
    }

    private static DataType firstDefined(List<DataType> inputs) {
        return inputs.stream().filter(t -> t != DataType.UNDEFINED).findFirst().orElse(DataType.UNDEFINED);
    }

    private static List<DataType> repeat(DataType type, int count) {
        return Collections.nCopies(count, type);
    }

    private static List<DataType> withFirst(DataType first, DataType rest, int count) {
        List<DataType> types = new ArrayList<>(Collections.nCopies(count, rest));
        if (count > 0) {
            types.set(0, first);
        }
        return types;
    }
}

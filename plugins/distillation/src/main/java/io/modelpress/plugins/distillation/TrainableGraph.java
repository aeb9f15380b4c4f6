package io.modelpress.plugins.distillation;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.model.DataType;
import io.modelpress.model.GraphPath;
import io.modelpress.model.Graphs;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.model.WeightIndex;
import io.modelpress.spi.PluginException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * A trainable copy of an ONNX graph: every node is run as DJL operations on the PyTorch engine, so
 * gradients reach the float32 initializers that act as weights, and trained values are written back
 * into the same graph. Nothing else of the graph changes: names, inputs, outputs, nodes, and every
 * tensor whose values training left as they were keep their exact bytes.
 *
 * <p>The operators are those of MLPs, CNNs and MobileNet-like networks, plus the Cast/Gather/Reshape
 * decoding that weight sharing writes (its codebook trains; its indices stay). BatchNormalization
 * runs in inference form (its statistics fixed, its scale and shift trained), which is how a trained
 * network is fine-tuned on little data. A graph with any other operator is refused with its name.
 */
final class TrainableGraph {

    /** The operators a graph may use, all in the default ONNX domain. */
    static final Set<String> OPERATORS = Set.of("Gemm", "MatMul", "Add", "Conv", "BatchNormalization", "Relu",
            "Clip", "Sigmoid", "Tanh", "Gelu", "HardSwish", "HardSigmoid", "MaxPool", "AveragePool",
            "GlobalAveragePool", "GlobalMaxPool", "Flatten", "Reshape", "Concat", "Softmax", "LogSoftmax",
            "LayerNormalization", "Identity", "Dropout", "Constant", "Cast", "Gather");

    /** What a trainable initializer is to the node that reads it. */
    enum Role {
        /** Multiplies the input (Gemm/MatMul/Conv weights, a codebook): pruned zeros and shared values live here. */
        WEIGHT,
        /** Shifts or scales (biases, normalisation parameters): trained freely. */
        BIAS
    }

    /**
     * A float32 initializer that trains.
     *
     * @param name its name in the graph
     * @param dims its shape
     * @param values its values in the model
     * @param role what it does
     * @param channels output channels of a Gemm/MatMul/Conv weight (for group penalties), 0 otherwise
     * @param channelAxis the axis of those channels
     */
    record Trainable(String name, long[] dims, float[] values, Role role, int channels, int channelAxis) {
        Trainable {
            Objects.requireNonNull(name, "name is null");
            dims = dims.clone();
            values = values.clone();
            Objects.requireNonNull(role, "role is null");
        }

        @Override
        public float[] values() {
            return values.clone();
        }

        @Override
        public long[] dims() {
            return dims.clone();
        }
    }

    private final OnnxModel model;
    private final List<NodeProto> nodes;
    private final String input;
    private final String logits;
    private final int opset;
    private final Map<String, Trainable> trainables;
    private final Map<String, TensorProto> constants;
    /** Gather nodes' flat indices into their data and the indices' shape, by output: indices are constants. */
    private final Map<String, long[]> gatherIndices = new HashMap<>();
    private final Map<String, long[]> gatherIndexDims = new HashMap<>();

    private TrainableGraph(OnnxModel model, String input, String logits, Map<String, Trainable> trainables,
            Map<String, TensorProto> constants) {
        this.model = model;
        this.nodes = model.proto().getGraph().getNodeList();
        this.input = input;
        this.logits = logits;
        this.trainables = trainables;
        this.constants = constants;
        this.opset = opset(model.proto());
    }

    /**
     * Reads {@code model} for training.
     *
     * @param input the graph input the data feeds
     * @param logits the value trained on: the output, or the input of a final Softmax
     * @throws PluginException naming the first operator, subgraph or tensor type the translator cannot train
     */
    static TrainableGraph of(OnnxModel model, String input, String logits) throws PluginException {
        checkOperators(model);
        GraphProto graph = model.proto().getGraph();
        Map<String, TensorProto> constants = new HashMap<>();
        Map<String, Trainable> trainables = new LinkedHashMap<>();
        WeightIndex index = model.weights();
        for (Weight weight : index.all()) {
            if (!weight.ref().graph().isMain()) {
                continue;
            }
            TensorProto tensor = index.tensor(weight.ref());
            Role role = weight.storage() == Weight.Storage.INITIALIZER && weight.type() == DataType.FLOAT
                    ? role(weight) : null;
            if (role == null) {
                constants.put(weight.name(), tensor);
            } else {
                trainables.put(weight.name(), trainable(weight, tensor, role, graph));
            }
        }
        TrainableGraph trainable = new TrainableGraph(model, input, logits, trainables, constants);
        trainable.checkConstantInputs();
        return trainable;
    }

    /** @throws PluginException naming every operator outside {@link #OPERATORS} or holding a subgraph */
    static void checkOperators(OnnxModel model) throws PluginException {
        Set<String> foreign = new TreeSet<>();
        for (NodeProto node : model.proto().getGraph().getNodeList()) {
            boolean known = OPERATORS.contains(node.getOpType())
                    && (node.getDomain().isEmpty() || node.getDomain().equals("ai.onnx"))
                    && node.getAttributeList().stream().noneMatch(Graphs::hasSubgraph);
            if (!known) {
                foreign.add((node.getDomain().isEmpty() ? "" : node.getDomain() + ".") + node.getOpType() + " (node '"
                        + node.getName() + "')");
            }
        }
        if (!foreign.isEmpty()) {
            throw new PluginException("the model cannot be trained here: it uses " + String.join(", ", foreign)
                    + "; the trainable operators are " + String.join(", ", new TreeSet<>(OPERATORS)));
        }
    }

    /** The role every use gives the weight, or null when some use is not a trainable position. */
    private static Role role(Weight weight) {
        Role role = null;
        for (Weight.Use use : weight.uses()) {
            Role here = switch (use.opType()) {
                case "Gemm" -> use.inputIndex() == 2 ? Role.BIAS : Role.WEIGHT;
                case "MatMul" -> Role.WEIGHT;
                case "Conv" -> use.inputIndex() == 1 ? Role.WEIGHT : Role.BIAS;
                case "Gather" -> use.inputIndex() == 0 ? Role.WEIGHT : null;
                case "Add" -> Role.BIAS;
                case "BatchNormalization", "LayerNormalization" -> use.inputIndex() <= 2 ? Role.BIAS : null;
                default -> null;
            };
            if (here == null || role != null && role != here) {
                return null;
            }
            role = here;
        }
        return role;
    }

    private static Trainable trainable(Weight weight, TensorProto tensor, Role role, GraphProto graph) {
        long[] dims = weight.dims();
        int axis = -1;
        if (role == Role.WEIGHT && dims.length >= 2 && weight.uses().size() == 1) {
            Weight.Use use = weight.uses().get(0);
            NodeProto node = graph.getNode(use.nodeIndex());
            axis = switch (use.opType()) {
                case "Conv" -> 0;
                case "MatMul" -> use.inputIndex() == 1 && dims.length == 2 ? 1 : -1;
                case "Gemm" -> use.inputIndex() == 1 ? (Nodes.intAttribute(node, "transB", 0) != 0 ? 0 : 1) : -1;
                default -> -1;
            };
        }
        int channels = axis < 0 ? 0 : Math.toIntExact(dims[axis]);
        return new Trainable(weight.name(), dims, Tensors.toFloats(tensor), role, channels, Math.max(0, axis));
    }

    /** The trainable initializers, in graph order. */
    List<Trainable> trainables() {
        return List.copyOf(trainables.values());
    }

    String input() {
        return input;
    }

    /**
     * Computes the logits for {@code x}.
     *
     * @param parameters a value for every trainable initializer, by name
     */
    NDArray forward(NDManager manager, NDArray x, Map<String, NDArray> parameters) throws PluginException {
        Map<String, NDArray> values = new HashMap<>(parameters);
        values.put(input, x);
        for (NodeProto node : nodes) {
            if (values.containsKey(logits)) {
                break;
            }
            List<NDArray> in = new ArrayList<>();
            for (String name : node.getInputList()) {
                in.add(name.isEmpty() ? null : value(manager, values, name));
            }
            NDArray out = run(node, in, manager);
            values.put(node.getOutput(0), out);
        }
        NDArray result = values.get(logits);
        if (result == null) {
            throw new PluginException("no node computes '" + logits + "'");
        }
        return result;
    }

    private NDArray value(NDManager manager, Map<String, NDArray> values, String name) throws PluginException {
        NDArray value = values.get(name);
        if (value != null) {
            return value;
        }
        TensorProto constant = constants.get(name);
        if (constant == null) {
            throw new PluginException("value '" + name + "' is neither computed before its use nor a weight");
        }
        long[] dims = Tensors.dims(constant);
        DataType type = DataType.of(constant);
        NDArray array = type == DataType.FLOAT || type == DataType.FLOAT16 || type == DataType.DOUBLE
                || type == DataType.BFLOAT16 ? manager.create(Tensors.toFloats(constant), new Shape(dims))
                : manager.create(Tensors.toLongs(constant), new Shape(dims));
        values.put(name, array);
        return array;
    }

    private NDArray run(NodeProto node, List<NDArray> in, NDManager manager) throws PluginException {
        NDArray x = in.get(0);
        return switch (node.getOpType()) {
            case "Gemm" -> gemm(node, in);
            case "MatMul" -> x.matMul(in.get(1));
            case "Add" -> x.add(in.get(1));
            case "Conv" -> conv(node, in, manager);
            case "BatchNormalization" -> batchNorm(node, in);
            case "Relu" -> Activation.relu(x);
            case "Clip" -> node.getInputCount() > 1 ? clipFromInputs(node, x) : clip(node, x);
            case "Sigmoid" -> Activation.sigmoid(x);
            case "Tanh" -> Activation.tanh(x);
            case "Gelu" -> gelu(node, x);
            case "HardSigmoid" -> hardSigmoid(x, Nodes.floatAttribute(node, "alpha", 0.2f),
                    Nodes.floatAttribute(node, "beta", 0.5f));
            case "HardSwish" -> x.mul(hardSigmoid(x, 1f / 6, 0.5f));
            case "MaxPool", "AveragePool" -> pool(node, x);
            case "GlobalAveragePool", "GlobalMaxPool" -> globalPool(node.getOpType(), x);
            case "Flatten" -> flatten(node, x);
            case "Reshape" -> x.reshape(reshaped(node, x.getShape().getShape()));
            case "Concat" -> NDArrays.concat(new NDList(in), axis(node, "axis", 0, x));
            case "Softmax" -> x.softmax(axis(node, "axis", opset >= 13 ? -1 : 1, x));
            case "LogSoftmax" -> x.logSoftmax(axis(node, "axis", opset >= 13 ? -1 : 1, x));
            case "LayerNormalization" -> layerNorm(node, in, manager);
            case "Identity", "Dropout" -> x;
            case "Constant" -> throw new IllegalStateException("Constant nodes are weights");
            case "Cast" -> cast(node, x);
            case "Gather" -> gather(node, x);
            default -> throw new PluginException("no translation for " + node.getOpType());
        };
    }

    private static NDArray gemm(NodeProto node, List<NDArray> in) {
        NDArray a = Nodes.intAttribute(node, "transA", 0) != 0 ? in.get(0).transpose() : in.get(0);
        NDArray b = Nodes.intAttribute(node, "transB", 0) != 0 ? in.get(1).transpose() : in.get(1);
        NDArray y = a.matMul(b);
        float alpha = Nodes.floatAttribute(node, "alpha", 1f);
        if (alpha != 1f) {
            y = y.mul(alpha);
        }
        if (in.size() > 2 && in.get(2) != null) {
            float beta = Nodes.floatAttribute(node, "beta", 1f);
            y = y.add(beta == 1f ? in.get(2) : in.get(2).mul(beta));
        }
        return y;
    }

    private NDArray conv(NodeProto node, List<NDArray> in, NDManager manager) throws PluginException {
        NDArray x = in.get(0);
        NDArray w = in.get(1);
        int spatial = w.getShape().dimension() - 2;
        NDArray b = in.size() > 2 && in.get(2) != null ? in.get(2) : manager.zeros(new Shape(w.getShape().get(0)));
        long[] pads = symmetricPads(node, spatial);
        return x.getNDArrayInternal().convolution(x, w, b, new Shape(ints(node, "strides", spatial, 1)),
                new Shape(pads), new Shape(ints(node, "dilations", spatial, 1)),
                (int) Nodes.intAttribute(node, "group", 1)).singletonOrThrow();
    }

    private static NDArray batchNorm(NodeProto node, List<NDArray> in) {
        NDArray x = in.get(0);
        long[] broadcast = new long[x.getShape().dimension() - 1];
        Arrays.fill(broadcast, 1);
        broadcast[0] = -1;
        float epsilon = Nodes.floatAttribute(node, "epsilon", 1e-5f);
        NDArray factor = in.get(1).div(in.get(4).add(epsilon).sqrt());
        NDArray shift = in.get(2).sub(in.get(3).mul(factor));
        return x.mul(factor.reshape(broadcast)).add(shift.reshape(broadcast));
    }

    private static NDArray clip(NodeProto node, NDArray x) {
        float min = Nodes.floatAttribute(node, "min", Float.NEGATIVE_INFINITY);
        float max = Nodes.floatAttribute(node, "max", Float.POSITIVE_INFINITY);
        return x.clip(min, max);
    }

    /** Clip's bounds given as inputs (opset 11+): constants, read before the values are computed. */
    private NDArray clipFromInputs(NodeProto node, NDArray x) {
        float min = bound(node, 1, Float.NEGATIVE_INFINITY);
        float max = bound(node, 2, Float.POSITIVE_INFINITY);
        return x.clip(min, max);
    }

    private float bound(NodeProto node, int index, float absent) {
        if (node.getInputCount() <= index || node.getInput(index).isEmpty()) {
            return absent;
        }
        return Tensors.toFloats(constants.get(node.getInput(index)))[0];
    }

    private static NDArray gelu(NodeProto node, NDArray x) {
        String approximate = Nodes.attribute(node, "approximate").map(a -> a.getS().toStringUtf8()).orElse("none");
        if (approximate.equals("tanh")) {
            NDArray inner = x.add(x.pow(3).mul(0.044715f)).mul((float) Math.sqrt(2 / Math.PI));
            return x.mul(0.5f).mul(inner.tanh().add(1f));
        }
        return x.mul(0.5f).mul(x.div((float) Math.sqrt(2)).erf().add(1f));
    }

    private static NDArray hardSigmoid(NDArray x, float alpha, float beta) {
        return x.mul(alpha).add(beta).clip(0f, 1f);
    }

    private NDArray pool(NodeProto node, NDArray x) throws PluginException {
        int spatial = x.getShape().dimension() - 2;
        Shape kernel = new Shape(ints(node, "kernel_shape", spatial, 1));
        Shape strides = new Shape(ints(node, "strides", spatial, 1));
        Shape pads = new Shape(symmetricPads(node, spatial));
        boolean ceil = Nodes.intAttribute(node, "ceil_mode", 0) != 0;
        for (long dilation : ints(node, "dilations", spatial, 1)) {
            if (dilation != 1) {
                throw new PluginException(node.getOpType() + " '" + node.getName() + "' has dilations, which training"
                        + " here does not support");
            }
        }
        if (node.getOpType().equals("MaxPool")) {
            return x.getNDArrayInternal().maxPool(kernel, strides, pads, ceil);
        }
        return x.getNDArrayInternal().avgPool(kernel, strides, pads, ceil,
                Nodes.intAttribute(node, "count_include_pad", 0) != 0);
    }

    /** Over every spatial axis, keeping them as 1s; one axis at a time (PyTorch's reductions here take one). */
    private static NDArray globalPool(String op, NDArray x) {
        NDArray y = x;
        for (int axis = 2; axis < x.getShape().dimension(); axis++) {
            y = op.equals("GlobalMaxPool") ? y.max(new int[] {axis}, true) : y.mean(new int[] {axis}, true);
        }
        return y;
    }

    private static NDArray flatten(NodeProto node, NDArray x) {
        long[] dims = x.getShape().getShape();
        int axis = (int) Nodes.intAttribute(node, "axis", 1);
        if (axis < 0) {
            axis += dims.length;
        }
        long outer = 1;
        for (int i = 0; i < axis; i++) {
            outer *= dims[i];
        }
        return x.reshape(outer, x.size() / Math.max(1, outer));
    }

    private long[] reshaped(NodeProto node, long[] from) throws PluginException {
        TensorProto shape = constants.get(node.getInput(1));
        if (shape == null) {
            throw new PluginException("Reshape '" + node.getName() + "' takes its shape from a computed value; training"
                    + " here needs shapes that are constants");
        }
        long[] to = Tensors.toLongs(shape);
        boolean allowZero = Nodes.intAttribute(node, "allowzero", 0) != 0;
        for (int i = 0; i < to.length; i++) {
            if (to[i] == 0 && !allowZero) {
                to[i] = from[i];
            }
        }
        return to;
    }

    private static int axis(NodeProto node, String name, int defaultAxis, NDArray x) {
        int axis = (int) Nodes.intAttribute(node, name, defaultAxis);
        return axis < 0 ? axis + x.getShape().dimension() : axis;
    }

    private static NDArray layerNorm(NodeProto node, List<NDArray> in, NDManager manager) {
        NDArray x = in.get(0);
        int axis = axis(node, "axis", -1, x);
        long[] dims = x.getShape().getShape();
        Shape normalized = new Shape(Arrays.copyOfRange(dims, axis, dims.length));
        NDArray scale = in.get(1).reshape(normalized);
        NDArray bias = in.size() > 2 && in.get(2) != null ? in.get(2).reshape(normalized) : manager.zeros(normalized);
        return x.getNDArrayInternal().layerNorm(x, normalized, scale, bias,
                Nodes.floatAttribute(node, "epsilon", 1e-5f)).get(0);
    }

    private static NDArray cast(NodeProto node, NDArray x) throws PluginException {
        DataType to = DataType.of((int) Nodes.intAttribute(node, "to", 0));
        return switch (to) {
            case FLOAT -> x.toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
            case INT32, INT64 -> x.toType(ai.djl.ndarray.types.DataType.INT64, false);
            default -> throw new PluginException("Cast '" + node.getName() + "' to " + to.label()
                    + ": training here runs in float32 and casts only to float32 or integer indices");
        };
    }

    /** Gather along axis 0 with constant indices: one {@code take} of the flat positions, computed once. */
    private NDArray gather(NodeProto node, NDArray data) {
        long[] flat = gatherIndices.get(node.getOutput(0));
        NDArray picked = data.take(data.getManager().create(flat));
        long[] dims = data.getShape().getShape();
        long[] indexDims = gatherIndexDims.get(node.getOutput(0));
        long[] out = new long[indexDims.length + dims.length - 1];
        System.arraycopy(indexDims, 0, out, 0, indexDims.length);
        System.arraycopy(dims, 1, out, indexDims.length, dims.length - 1);
        return picked.reshape(out);
    }

    /**
     * Checks the inputs that must be constants (Clip bounds, Gather indices, along axis 0) before any
     * training starts, and computes each Gather's flat positions once.
     */
    private void checkConstantInputs() throws PluginException {
        Map<String, NodeProto> producers = new HashMap<>();
        for (NodeProto node : nodes) {
            node.getOutputList().forEach(name -> producers.put(name, node));
        }
        for (NodeProto node : nodes) {
            if (node.getOpType().equals("Clip") && node.getInputCount() > 1) {
                for (int i = 1; i < node.getInputCount(); i++) {
                    if (!node.getInput(i).isEmpty() && !constants.containsKey(node.getInput(i))) {
                        throw new PluginException("Clip '" + node.getName() + "' takes a bound from a computed value;"
                                + " training here needs constant bounds");
                    }
                }
            }
            if (!node.getOpType().equals("Gather")) {
                continue;
            }
            if (Nodes.intAttribute(node, "axis", 0) != 0) {
                throw new PluginException("Gather '" + node.getName() + "' gathers along axis "
                        + Nodes.intAttribute(node, "axis", 0) + "; training here supports axis 0 only");
            }
            TensorProto indices = constantThroughCasts(node.getInput(1), producers);
            long[] dataDims = dataDims(node.getInput(0));
            if (indices == null || dataDims == null) {
                throw new PluginException("Gather '" + node.getName() + "' does not read a weight at constant indices;"
                        + " training here supports only that (the form weight sharing writes)");
            }
            long rows = dataDims[0];
            long width = 1;
            for (int d = 1; d < dataDims.length; d++) {
                width *= dataDims[d];
            }
            long[] picked = Tensors.toLongs(indices);
            long[] flat = new long[Math.toIntExact(picked.length * width)];
            for (int i = 0; i < picked.length; i++) {
                long row = picked[i] < 0 ? picked[i] + rows : picked[i];
                if (row < 0 || row >= rows) {
                    throw new PluginException("Gather '" + node.getName() + "' reads row " + picked[i] + " of " + rows);
                }
                for (int k = 0; k < width; k++) {
                    flat[(int) (i * width + k)] = row * width + k;
                }
            }
            gatherIndices.put(node.getOutput(0), flat);
            gatherIndexDims.put(node.getOutput(0), Tensors.dims(indices));
        }
    }

    private TensorProto constantThroughCasts(String name, Map<String, NodeProto> producers) {
        TensorProto constant = constants.get(name);
        NodeProto producer = producers.get(name);
        if (constant == null && producer != null && producer.getOpType().equals("Cast")) {
            return constantThroughCasts(producer.getInput(0), producers);
        }
        return constant;
    }

    private long[] dataDims(String name) {
        Trainable trainable = trainables.get(name);
        if (trainable != null) {
            return trainable.dims();
        }
        TensorProto constant = constants.get(name);
        return constant == null ? null : Tensors.dims(constant);
    }

    private static long[] ints(NodeProto node, String name, int count, long absent) {
        AttributeProto attribute = Nodes.attribute(node, name).orElse(null);
        if (attribute == null || attribute.getIntsCount() == 0) {
            long[] values = new long[count];
            Arrays.fill(values, absent);
            return values;
        }
        return attribute.getIntsList().stream().mapToLong(Long::longValue).toArray();
    }

    /** Begin pads, which must equal the end pads: PyTorch's convolution and pooling pad both sides alike. */
    private static long[] symmetricPads(NodeProto node, int spatial) throws PluginException {
        String autoPad = Nodes.attribute(node, "auto_pad").map(a -> a.getS().toStringUtf8()).orElse("NOTSET");
        if (!autoPad.equals("NOTSET") && !autoPad.equals("VALID")) {
            throw new PluginException(node.getOpType() + " '" + node.getName() + "' uses auto_pad " + autoPad
                    + "; training here needs explicit pads");
        }
        long[] pads = ints(node, "pads", 2 * spatial, 0);
        long[] begin = Arrays.copyOf(pads, spatial);
        if (!Arrays.equals(begin, Arrays.copyOfRange(pads, spatial, 2 * spatial))) {
            throw new PluginException(node.getOpType() + " '" + node.getName() + "' pads its sides unevenly "
                    + Arrays.toString(pads) + "; training here supports only even pads");
        }
        return begin;
    }

    private static int opset(ModelProto proto) {
        for (OperatorSetIdProto id : proto.getOpsetImportList()) {
            if (id.getDomain().isEmpty() || id.getDomain().equals("ai.onnx")) {
                return (int) id.getVersion();
            }
        }
        return 13;
    }

    /**
     * The model with trained values written back. Only initializers whose values changed (bit for
     * bit) are rewritten, as float32 raw data under their own name; everything else is the input's.
     */
    OnnxModel export(Map<String, float[]> trained) {
        Map<Weight.Ref, TensorProto> changed = new LinkedHashMap<>();
        for (Trainable trainable : trainables.values()) {
            float[] values = trained.get(trainable.name());
            if (values == null) {
                continue;
            }
            if (values.length != trainable.values.length) {
                throw new IllegalArgumentException(values.length + " values for " + trainable.name() + " of "
                        + trainable.values.length);
            }
            if (!Arrays.equals(values, trainable.values)) {
                changed.put(new Weight.Ref(GraphPath.MAIN, trainable.name()),
                        Tensors.ofFloats(trainable.name(), trainable.dims, values));
            }
        }
        return model.withProto(WeightIndex.replace(model.proto(), changed));
    }
}

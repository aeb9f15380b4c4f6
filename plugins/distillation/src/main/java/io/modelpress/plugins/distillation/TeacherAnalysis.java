package io.modelpress.plugins.distillation;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.modelpress.model.DataType;
import io.modelpress.model.Graphs;
import io.modelpress.model.ModelException;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Weight;
import io.modelpress.spi.PluginException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads a registered model as a teacher: refuses, with the reason, the kinds no compact student
 * can be derived for (recurrent layers, subgraphs, attention), checks that it has one input and
 * one score output, and measures the layer sizes a student is scaled from.
 */
final class TeacherAnalysis {

    static final String SUPPORTED = "distillation derives students for MLPs (a chain of Gemm/MatMul layers with"
            + " Relu/Tanh/Sigmoid on a flat input) and CNN image classifiers (input [N,C,H,W], Conv layers, a"
            + " [batch, classes] score output)";

    private static final Set<String> RECURRENT = Set.of("LSTM", "GRU", "RNN");
    private static final Set<String> ATTENTION = Set.of("Attention", "MultiHeadAttention", "GroupQueryAttention",
            "LayerNormalization", "SkipLayerNormalization", "EmbedLayerNormalization", "SimplifiedLayerNormalization",
            "SkipSimplifiedLayerNormalization", "RotaryEmbedding");
    private static final Set<String> MLP_OPS = Set.of("Gemm", "MatMul", "Add", "Relu", "Tanh", "Sigmoid", "Flatten",
            "Identity", "Dropout", "Softmax", "LogSoftmax", "Constant", "Cast");
    /** Nodes that pass the scores on unchanged but for their type: the head is what computes their input. */
    private static final Set<String> PASS_THROUGH = Set.of("Identity", "Cast");
    private static final Set<DataType> FLOATS = Set.of(DataType.FLOAT, DataType.FLOAT16, DataType.BFLOAT16,
            DataType.DOUBLE);

    private TeacherAnalysis() {
    }

    static Teacher analyse(OnnxModel model) throws PluginException {
        GraphProto graph = model.proto().getGraph();
        refuseUnsupportedStructure(model, graph);
        Teacher scores = scoreModel(model);
        Map<String, Weight> weights = mainWeights(model);
        Map<String, NodeProto> producers = producers(graph);
        ValueInfoProto input = scores.input();
        DataType inputType = scores.inputType();
        List<OptionalLong> inputDims = scores.inputDims();
        ValueInfoProto output = scores.output();
        DataType outputType = scores.outputType();
        Teacher.Head head = scores.head();
        long parameters = scores.parameters();
        Set<String> ops = new TreeSet<>();
        graph.getNodeList().forEach(node -> ops.add(node.getOpType()));
        int rank = inputDims.size();
        if (ops.contains("Conv") && (rank == 4 || rank == 0)) {
            return new Teacher(Teacher.Kind.CNN, input, inputType, inputDims, output, outputType, head, new int[0],
                    Activation.RELU, convChannels(graph, weights), parameters);
        }
        Set<String> foreign = new TreeSet<>(ops);
        foreign.removeAll(MLP_OPS);
        if (!foreign.isEmpty() || rank == 1 || rank > 2 && !ops.contains("Flatten")) {
            String why = !foreign.isEmpty() ? "it uses " + String.join(", ", foreign)
                    : "its input '" + input.getName() + "' has rank " + rank + (rank > 2 ? " and no Flatten" : "");
            throw new PluginException("no student can be derived for this model: " + why + "; " + SUPPORTED
                    + "; the model is left unchanged");
        }
        return mlp(graph, weights, producers, input, inputType, inputDims, output, outputType, head, parameters);
    }

    /**
     * The model as a classifier, whatever its layers: one floating-point input, one output of class
     * scores and what that output holds. Its kind says only whether the input is an image batch
     * (rank 4, CNN) or not; no layer sizes are read.
     */
    static Teacher scoreModel(OnnxModel model) throws PluginException {
        GraphProto graph = model.proto().getGraph();
        Map<String, Weight> weights = mainWeights(model);
        List<ValueInfoProto> inputs = graph.getInputList().stream().filter(i -> !weights.containsKey(i.getName())).toList();
        if (inputs.size() != 1) {
            throw new PluginException("the model has " + inputs.size() + " inputs (" + names(inputs) + "); it must have"
                    + " one input and one output of class scores");
        }
        ValueInfoProto input = inputs.get(0);
        DataType inputType = elementType(input, "input");
        if (!FLOATS.contains(inputType)) {
            throw new PluginException("the model's input '" + input.getName() + "' is " + inputType.label()
                    + ", not floating point");
        }
        List<OptionalLong> inputDims = dims(input);
        if (graph.getOutputCount() != 1) {
            throw new PluginException("the model has " + graph.getOutputCount() + " outputs ("
                    + names(graph.getOutputList()) + "); it must have exactly one output of class scores");
        }
        ValueInfoProto output = graph.getOutput(0);
        DataType outputType = checkScoreOutput(output);
        Teacher.Head head = head(output.getName(), producers(graph));
        Teacher.Kind kind = inputDims.size() == 4 ? Teacher.Kind.CNN : Teacher.Kind.MLP;
        return new Teacher(kind, input, inputType, inputDims, output, outputType, head, new int[0], Activation.RELU,
                new int[0], model.weights().totalElements());
    }

    /** The value holding the logits: the input of a final Softmax (looking through Identity and Cast), else the output. */
    static String logitsName(OnnxModel model, Teacher teacher) {
        NodeProto node = scoreProducer(teacher.outputName(), producers(model.proto().getGraph()));
        return teacher.head() == Teacher.Head.SOFTMAX && node != null ? node.getInput(0) : teacher.outputName();
    }

    private static Teacher mlp(GraphProto graph, Map<String, Weight> weights, Map<String, NodeProto> producers,
            ValueInfoProto input, DataType inputType, List<OptionalLong> inputDims, ValueInfoProto output,
            DataType outputType, Teacher.Head head, long parameters) throws PluginException {
        List<Integer> widths = new ArrayList<>();
        Activation activation = null;
        NodeProto scoreNode = scoreProducer(output.getName(), producers);
        for (NodeProto node : graph.getNodeList()) {
            String op = node.getOpType();
            if (op.equals("Gemm") || op.equals("MatMul")) {
                widths.add(denseWidth(node, weights));
            } else if (activation == null && node != scoreNode && Activation.ofOpType(op).isPresent()) {
                activation = Activation.ofOpType(op).get();
            }
        }
        if (widths.size() < 2) {
            throw new PluginException("no student can be derived for this model: it is a single linear layer"
                    + " (one Gemm/MatMul), and a student of its kind cannot be smaller; the model is left unchanged");
        }
        int[] hidden = widths.subList(0, widths.size() - 1).stream().mapToInt(Integer::intValue).toArray();
        return new Teacher(Teacher.Kind.MLP, input, inputType, inputDims, output, outputType, head, hidden,
                activation == null ? Activation.RELU : activation, new int[0], parameters);
    }

    /** The output width of a Gemm or MatMul whose second input is a rank-2 weight. */
    private static int denseWidth(NodeProto node, Map<String, Weight> weights) throws PluginException {
        Weight weight = node.getInputCount() > 1 ? weights.get(node.getInput(1)) : null;
        if (weight == null || weight.rank() != 2) {
            throw new PluginException("no student can be derived for this model: " + node.getOpType() + " '"
                    + node.getName() + "' does not multiply by a rank-2 weight; " + SUPPORTED
                    + "; the model is left unchanged");
        }
        long[] dims = weight.dims();
        boolean transposed = node.getOpType().equals("Gemm") && Nodes.intAttribute(node, "transB", 0) != 0;
        return Math.toIntExact(transposed ? dims[0] : dims[1]);
    }

    private static int[] convChannels(GraphProto graph, Map<String, Weight> weights) {
        List<Integer> channels = new ArrayList<>();
        for (NodeProto node : graph.getNodeList()) {
            if (node.getOpType().equals("Conv") && node.getInputCount() > 1) {
                Weight weight = weights.get(node.getInput(1));
                if (weight != null && weight.rank() == 4) {
                    channels.add(Math.toIntExact(weight.dims()[0]));
                }
            }
        }
        return channels.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Recurrent layers, subgraphs and attention: no compact student of the same kind is derived for them. */
    private static void refuseUnsupportedStructure(OnnxModel model, GraphProto main) throws PluginException {
        Set<String> found = new LinkedHashSet<>();
        Set<String> subgraphOwners = new TreeSet<>();
        Graphs.forEach(model.proto(), (path, graph) -> {
            for (NodeProto node : graph.getNodeList()) {
                if (RECURRENT.contains(node.getOpType())) {
                    found.add(node.getOpType() + " (recurrent) layers");
                }
                if (ATTENTION.contains(node.getOpType())) {
                    found.add(node.getOpType() + " (transformer) layers");
                }
                if (node.getAttributeList().stream().anyMatch(Graphs::hasSubgraph)) {
                    subgraphOwners.add(node.getOpType());
                }
            }
        });
        if (!subgraphOwners.isEmpty()) {
            found.add(String.join("/", subgraphOwners) + " subgraphs");
        }
        Set<String> constants = constantNames(main);
        for (NodeProto node : main.getNodeList()) {
            if (node.getOpType().equals("MatMul") && node.getInputCount() == 2
                    && !constants.contains(node.getInput(0)) && !constants.contains(node.getInput(1))) {
                found.add("MatMul '" + node.getName() + "' of two computed tensors (attention)");
                break;
            }
        }
        if (!found.isEmpty()) {
            throw new PluginException("no student can be derived for this model: it has " + String.join(", ", found)
                    + "; " + SUPPORTED + "; the model is left unchanged");
        }
    }

    private static DataType checkScoreOutput(ValueInfoProto output) throws PluginException {
        DataType type = elementType(output, "output");
        String name = output.getName();
        if (!FLOATS.contains(type)) {
            throw new PluginException("the teacher's output '" + name + "' is " + type.label()
                    + ", not floating-point class scores; distillation needs scores of shape [batch, classes]");
        }
        List<OptionalLong> dims = dims(output);
        if (!dims.isEmpty() && dims.size() != 2) {
            throw new PluginException("the teacher's output '" + name + "' has rank " + dims.size()
                    + ", not class scores; distillation needs scores of shape [batch, classes]");
        }
        if (dims.size() == 2 && dims.get(1).isPresent() && dims.get(1).getAsLong() < 2) {
            throw new PluginException("the teacher's output '" + name + "' holds a single value per row, not scores"
                    + " over classes; distillation needs scores of shape [batch, classes] with at least 2 classes");
        }
        return type;
    }

    private static Teacher.Head head(String output, Map<String, NodeProto> producers) throws PluginException {
        NodeProto node = scoreProducer(output, producers);
        if (node == null) {
            return Teacher.Head.LOGITS;
        }
        switch (node.getOpType()) {
            case "Sigmoid" -> throw new PluginException("the teacher's output '" + output + "' comes from a Sigmoid:"
                    + " independent per-class probabilities, not scores over exclusive classes that distillation can"
                    + " match with a softened softmax");
            case "Softmax", "LogSoftmax" -> {
                long axis = Nodes.intAttribute(node, "axis", -1);
                if (axis != -1 && axis != 1) {
                    throw new PluginException("the teacher's output '" + output + "' is a " + node.getOpType()
                            + " over axis " + axis + ", not over the classes");
                }
                return node.getOpType().equals("Softmax") ? Teacher.Head.SOFTMAX : Teacher.Head.LOG_SOFTMAX;
            }
            default -> {
                return Teacher.Head.LOGITS;
            }
        }
    }

    /** The node that computes the output, looking through Identity and Cast (mixed-precision exports end in one). */
    private static NodeProto scoreProducer(String output, Map<String, NodeProto> producers) {
        NodeProto node = producers.get(output);
        Set<String> seen = new HashSet<>();
        while (node != null && PASS_THROUGH.contains(node.getOpType()) && seen.add(node.getInput(0))) {
            node = producers.get(node.getInput(0));
        }
        return node;
    }

    private static Map<String, NodeProto> producers(GraphProto graph) {
        Map<String, NodeProto> producers = new HashMap<>();
        for (NodeProto node : graph.getNodeList()) {
            node.getOutputList().forEach(name -> producers.put(name, node));
        }
        return producers;
    }

    private static Map<String, Weight> mainWeights(OnnxModel model) {
        Map<String, Weight> weights = new HashMap<>();
        for (Weight weight : model.weights().all()) {
            if (weight.ref().graph().isMain()) {
                weights.put(weight.name(), weight);
            }
        }
        return weights;
    }

    private static Set<String> constantNames(GraphProto graph) {
        Set<String> names = new HashSet<>();
        graph.getInitializerList().stream().map(TensorProto::getName).forEach(names::add);
        for (NodeProto node : graph.getNodeList()) {
            if (node.getOpType().equals("Constant")) {
                names.addAll(node.getOutputList());
            }
        }
        return names;
    }

    private static DataType elementType(ValueInfoProto value, String role) throws PluginException {
        TypeProto type = value.getType();
        if (!type.hasTensorType()) {
            throw new PluginException("the teacher's " + role + " '" + value.getName() + "' is not a tensor; "
                    + SUPPORTED);
        }
        try {
            return DataType.of(type.getTensorType().getElemType());
        } catch (ModelException e) {
            throw new PluginException("the teacher's " + role + " '" + value.getName() + "': " + e.getMessage());
        }
    }

    /** Declared dims, empty where symbolic; an empty list when no shape is declared. */
    static List<OptionalLong> dims(ValueInfoProto value) {
        TypeProto.Tensor tensor = value.getType().getTensorType();
        if (!tensor.hasShape()) {
            return List.of();
        }
        List<OptionalLong> dims = new ArrayList<>();
        for (TensorShapeProto.Dimension dim : tensor.getShape().getDimList()) {
            dims.add(dim.hasDimValue() ? OptionalLong.of(dim.getDimValue()) : OptionalLong.empty());
        }
        return dims;
    }

    private static String names(List<ValueInfoProto> values) {
        return String.join(", ", values.stream().map(ValueInfoProto::getName).toList());
    }
}

package io.modelpress.plugins.pruning;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.modelpress.model.DataType;
import io.modelpress.model.GraphPath;
import io.modelpress.model.Graphs;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Weight;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Finds the channel groups of a model's main graph: sets of weight slices that must lose the same
 * channels together. A group starts at a layer that makes channels (a Conv's output channels, a
 * Gemm's or MatMul's output features), follows them through operators that keep channels apart
 * (activations, BatchNormalization, bias and scale constants, pooling, depthwise Conv, Flatten of a
 * globally pooled map) and ends where layers read them (the next Conv's input channels, the next
 * Gemm's or MatMul's input rows). Two groups that meet in an elementwise operator (a residual Add,
 * a squeeze-and-excitation Mul) become one. A group is blocked, with the reason, when its
 * channels reach anything else: a graph output, Reshape, Concat, Shape, a subgraph, a computed
 * operand, a weight that other layers share.
 */
final class ChannelGroups {

    /** A weight cut along one axis. */
    record Slice(Weight.Ref weight, int axis) {
    }

    /**
     * A next layer's input slice that reads the group's channels, with the activation it reads them from and the
     * channel axis of that activation counted from its end.
     */
    record Reader(Slice slice, String input, int axisFromEnd) {
    }

    /**
     * A pruneable (or blocked) group, with everything that loses channels together: the layers that compute the
     * channels ({@code producers}), the next layers that read them ({@code readers}) and all slices.
     */
    record Group(String label, int channels, List<Slice> producers, List<Reader> readers, Set<Slice> slices,
            Set<Integer> depthwiseNodes, Set<String> tensors, Optional<String> blocked) {
    }

    /** Where the channels sit in an activation: {@code fromEnd} axes before the last; the rank when known. */
    private record Layout(int fromEnd, int rank, boolean spatialOne) {
        static Layout conv(int rank) {
            return new Layout(rank - 2, rank, false);
        }

        static Layout features(int rank) {
            return new Layout(0, rank, false);
        }
    }

    private record Tracked(int group, Layout layout) {
    }

    private record Registered(int group, Slice slice, int node, int input) {
    }

    private static final Set<String> UNARY = Set.of("Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
            "Elu", "Selu", "Celu", "Softplus", "Softsign", "Gelu", "Mish", "Erf", "Abs", "Neg", "Exp", "Log", "Sqrt",
            "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Identity", "Dropout", "Cast", "Clip",
            "ThresholdedRelu", "Shrink");
    private static final Set<String> ELEMENTWISE = Set.of("Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum",
            "Mean", "PRelu");
    private static final Set<String> POOLS = Set.of("MaxPool", "AveragePool", "LpPool", "GlobalAveragePool",
            "GlobalMaxPool", "GlobalLpPool");
    private static final Set<String> NORMS = Set.of("BatchNormalization", "InstanceNormalization");

    private final OnnxModel model;
    private final GraphProto graph;
    private final Map<String, Tracked> tracked = new HashMap<>();
    private final Map<String, Integer> consumers = new HashMap<>();
    private final List<Integer> parent = new ArrayList<>();
    private final List<String> labels = new ArrayList<>();
    private final List<Registered> registered = new ArrayList<>();
    private final List<Registered> producers = new ArrayList<>();
    private final Map<Reader, Integer> readers = new LinkedHashMap<>();
    private final Map<Integer, List<Integer>> channelFacts = new HashMap<>();
    private final Map<Integer, String> blocks = new HashMap<>();
    private final Map<Integer, Integer> depthwise = new HashMap<>();
    private final Map<Integer, Set<String>> tensors = new HashMap<>();

    private ChannelGroups(OnnxModel model) {
        this.model = Objects.requireNonNull(model, "model is null");
        this.graph = model.proto().getGraph();
    }

    /** The channel groups of the main graph, in the order their first layer appears. */
    static List<Group> of(OnnxModel model) {
        ChannelGroups analysis = new ChannelGroups(model);
        analysis.scan();
        return analysis.groups();
    }

    private void scan() {
        for (NodeProto node : graph.getNodeList()) {
            for (String input : node.getInputList()) {
                consumers.merge(input, 1, Integer::sum);
            }
        }
        for (int n = 0; n < graph.getNodeCount(); n++) {
            NodeProto node = graph.getNode(n);
            blockSubgraphReads(node);
            boolean standard = node.getDomain().isEmpty() || node.getDomain().equals("ai.onnx");
            String op = standard ? node.getOpType() : node.getDomain() + "." + node.getOpType();
            switch (op) {
                case "Constant" -> { }
                case "Conv" -> conv(n, node);
                case "Gemm" -> gemm(n, node);
                case "MatMul" -> matMul(n, node);
                case "Flatten" -> flatten(node);
                default -> {
                    if (NORMS.contains(op)) {
                        normalization(n, node);
                    } else if (UNARY.contains(op)) {
                        passThrough(node, false);
                    } else if (POOLS.contains(op)) {
                        passThrough(node, true);
                    } else if (ELEMENTWISE.contains(op)) {
                        elementwise(n, node);
                    } else {
                        blockInputs(node, 0, "feeds " + describe(node) + ", whose channels cannot be followed");
                    }
                }
            }
        }
        for (ValueInfoProto output : graph.getOutputList()) {
            Tracked t = tracked.get(output.getName());
            if (t != null) {
                block(t.group(), "reaches the graph output '" + output.getName() + "'");
            }
        }
    }

    private void conv(int n, NodeProto node) {
        Optional<Weight> weight = floatWeight(input(node, 1)).filter(w -> w.rank() >= 3);
        if (weight.isEmpty()) {
            blockInputs(node, 0, "feeds " + describe(node) + " whose kernel is not a float weight");
            return;
        }
        Weight w = weight.get();
        long[] dims = w.dims();
        long group = Nodes.intAttribute(node, "group", 1);
        Tracked x = tracked.get(input(node, 0));
        blockInputs(node, 1, "is a kernel of " + describe(node));
        if (x != null && x.layout().fromEnd() != w.rank() - 2) {
            block(x.group(), "feeds " + describe(node) + " along an axis that is not its channel axis");
            x = null;
        }
        boolean isDepthwise = group > 1 && dims[1] == 1 && group == dims[0];
        if (group == 1) {
            if (x != null) {
                reader(x.group(), w, 1, n, input(node, 0), x.layout().fromEnd());
            }
            int g = newGroup(describe(node));
            producer(g, w, 0, n, 1);
            bias(g, node, n, 2, false);
            track(node.getOutput(0), g, Layout.conv(w.rank()));
        } else if (isDepthwise && x != null) {
            // a depthwise Conv keeps channels apart: channel c in is channel c out
            register(x.group(), w, 0, n, 1);
            bias(x.group(), node, n, 2, false);
            depthwise.put(n, x.group());
            track(node.getOutput(0), x.group(), x.layout());
        } else if (x != null) {
            block(x.group(), "feeds " + describe(node) + " with group=" + group);
        }
    }

    private void gemm(int n, NodeProto node) {
        Optional<Weight> weight = floatWeight(input(node, 1)).filter(w -> w.rank() == 2);
        boolean transA = Nodes.intAttribute(node, "transA", 0) != 0;
        boolean transB = Nodes.intAttribute(node, "transB", 0) != 0;
        if (weight.isEmpty() || transA || isWeight(input(node, 0))) {
            blockInputs(node, 0, "feeds " + describe(node) + (transA ? " with transA" : " whose B is not a float weight"));
            return;
        }
        Weight w = weight.get();
        blockInputs(node, 1, "is the bias of " + describe(node));
        Tracked a = tracked.get(input(node, 0));
        if (a != null) {
            if (a.layout().fromEnd() != 0) {
                block(a.group(), "feeds " + describe(node) + " along an axis that is not its feature axis");
            } else {
                reader(a.group(), w, transB ? 1 : 0, n, input(node, 0), 0);
            }
        }
        int g = newGroup(describe(node));
        producer(g, w, transB ? 0 : 1, n, 1);
        bias(g, node, n, 2, true);
        track(node.getOutput(0), g, Layout.features(2));
    }

    private void matMul(int n, NodeProto node) {
        Optional<Weight> weight = floatWeight(input(node, 1)).filter(w -> w.rank() == 2);
        if (weight.isEmpty() || isWeight(input(node, 0))) {
            blockInputs(node, 0, "feeds " + describe(node) + " whose second operand is not a float weight matrix");
            return;
        }
        Weight w = weight.get();
        Tracked a = tracked.get(input(node, 0));
        if (a != null) {
            if (a.layout().fromEnd() != 0) {
                block(a.group(), "feeds " + describe(node) + " along an axis that is not its feature axis");
            } else {
                reader(a.group(), w, 0, n, input(node, 0), 0);
            }
        }
        int g = newGroup(describe(node));
        producer(g, w, 1, n, 1);
        track(node.getOutput(0), g, Layout.features(-1));
    }

    private void normalization(int n, NodeProto node) {
        Tracked x = tracked.get(input(node, 0));
        blockInputs(node, 1, "is a parameter of " + describe(node));
        if (x == null) {
            return;
        }
        if (x.layout().rank() < 0 || x.layout().fromEnd() != x.layout().rank() - 2) {
            block(x.group(), "feeds " + describe(node) + " whose channel axis is not known to be its own");
            return;
        }
        for (int i = 1; i < node.getInputCount(); i++) {
            Optional<Weight> parameter = weight(node.getInput(i)).filter(p -> p.rank() == 1);
            if (parameter.isEmpty()) {
                block(x.group(), "feeds " + describe(node) + " whose parameter '" + node.getInput(i) + "' is not a weight");
                return;
            }
            register(x.group(), parameter.get(), 0, n, i);
        }
        blockExtraOutputs(node, x.group());
        track(node.getOutput(0), x.group(), x.layout());
    }

    private void passThrough(NodeProto node, boolean pool) {
        Tracked x = tracked.get(input(node, 0));
        blockInputs(node, 1, "is a secondary input of " + describe(node));
        if (x == null) {
            return;
        }
        if (pool && (x.layout().rank() < 3 || x.layout().fromEnd() != x.layout().rank() - 2)) {
            block(x.group(), "feeds " + describe(node) + " without a channel axis it pools along");
            return;
        }
        blockExtraOutputs(node, x.group());
        boolean global = pool && node.getOpType().startsWith("Global");
        Layout layout = new Layout(x.layout().fromEnd(), x.layout().rank(), global || !pool && x.layout().spatialOne());
        track(node.getOutput(0), x.group(), layout);
    }

    private void flatten(NodeProto node) {
        Tracked x = tracked.get(input(node, 0));
        if (x == null) {
            return;
        }
        long axis = Nodes.intAttribute(node, "axis", 1);
        Layout in = x.layout();
        boolean keepsChannels = axis == 1 && in.rank() >= 2 && in.fromEnd() == in.rank() - 2
                && (in.spatialOne() || in.rank() == 2);
        if (!keepsChannels) {
            block(x.group(), "feeds " + describe(node) + ", which would mix spatial positions into the features");
            return;
        }
        track(node.getOutput(0), x.group(), Layout.features(2));
    }

    private void elementwise(int n, NodeProto node) {
        List<Tracked> ins = new ArrayList<>();
        for (String input : node.getInputList()) {
            Tracked t = tracked.get(input);
            if (t != null) {
                ins.add(t);
            }
        }
        if (ins.isEmpty()) {
            return;
        }
        int g = ins.get(0).group();
        int fromEnd = ins.get(0).layout().fromEnd();
        int rank = ins.get(0).layout().rank();
        boolean spatialOne = true;
        for (Tracked t : ins) {
            if (t.layout().fromEnd() != fromEnd) {
                block(g, describe(node) + " combines tensors whose channels lie on different axes");
                block(t.group(), describe(node) + " combines tensors whose channels lie on different axes");
                return;
            }
            g = union(g, t.group());
            rank = t.layout().rank() == rank ? rank : -1;
            spatialOne &= t.layout().spatialOne();
        }
        for (int i = 0; i < node.getInputCount(); i++) {
            String input = node.getInput(i);
            if (input.isEmpty() || tracked.containsKey(input)) {
                continue;
            }
            Optional<Weight> constant = weight(input);
            if (constant.isEmpty()) {
                block(g, describe(node) + " combines its channels with the computed tensor '" + input + "'");
                return;
            }
            long[] dims = constant.get().dims();
            int position = dims.length - 1 - fromEnd;
            if (position >= 0 && dims[position] != 1) {
                register(g, constant.get(), position, n, i);
            }
            for (int d = Math.max(0, position + 1); d < dims.length; d++) {
                spatialOne &= dims[d] == 1;
            }
            if (rank >= 0 && dims.length > rank) {
                rank = dims.length;
            }
        }
        blockExtraOutputs(node, g);
        track(node.getOutput(0), g, new Layout(fromEnd, rank, spatialOne));
    }

    /** A bias input: sliced along its last axis when it holds one value per channel. */
    private void bias(int g, NodeProto node, int n, int index, boolean broadcast) {
        String name = input(node, index);
        if (name.isEmpty()) {
            return;
        }
        Optional<Weight> bias = weight(name);
        if (bias.isEmpty()) {
            block(g, "the bias '" + name + "' of " + describe(node) + " is computed, not a weight");
            return;
        }
        long[] dims = bias.get().dims();
        if (dims.length == 0 || broadcast && dims[dims.length - 1] == 1) {
            return;
        }
        register(g, bias.get(), dims.length - 1, n, index);
    }

    private void blockSubgraphReads(NodeProto node) {
        for (AttributeProto attribute : node.getAttributeList()) {
            if (!Graphs.hasSubgraph(attribute)) {
                continue;
            }
            Set<String> reads = new HashSet<>();
            collectReads(attribute, reads);
            for (String name : reads) {
                Tracked t = tracked.get(name);
                if (t != null) {
                    block(t.group(), "is read inside the subgraph of " + describe(node));
                }
            }
        }
    }

    private static void collectReads(AttributeProto attribute, Set<String> reads) {
        List<GraphProto> graphs = new ArrayList<>(attribute.getGraphsList());
        if (attribute.hasG()) {
            graphs.add(attribute.getG());
        }
        for (GraphProto sub : graphs) {
            for (NodeProto node : sub.getNodeList()) {
                reads.addAll(node.getInputList());
                for (AttributeProto nested : node.getAttributeList()) {
                    collectReads(nested, reads);
                }
            }
        }
    }

    /** Blocks the groups of inputs {@code from..}: they reach something channel pruning cannot follow. */
    private void blockInputs(NodeProto node, int from, String reason) {
        for (int i = from; i < node.getInputCount(); i++) {
            Tracked t = tracked.get(node.getInput(i));
            if (t != null) {
                block(t.group(), reason);
            }
        }
    }

    /** Outputs past the first (a MaxPool's indices, BatchNormalization's running statistics) that anything reads. */
    private void blockExtraOutputs(NodeProto node, int g) {
        for (int o = 1; o < node.getOutputCount(); o++) {
            String output = node.getOutput(o);
            if (!output.isEmpty() && (consumers.containsKey(output) || isGraphOutput(output))) {
                block(g, describe(node) + " has a second output '" + output + "' in use");
            }
        }
    }

    private boolean isGraphOutput(String name) {
        return graph.getOutputList().stream().anyMatch(output -> output.getName().equals(name));
    }

    private int newGroup(String label) {
        parent.add(parent.size());
        labels.add(label);
        return parent.size() - 1;
    }

    private int root(int g) {
        while (parent.get(g) != g) {
            parent.set(g, parent.get(parent.get(g)));
            g = parent.get(g);
        }
        return g;
    }

    private int union(int a, int b) {
        int ra = root(a);
        int rb = root(b);
        if (ra != rb) {
            parent.set(Math.max(ra, rb), Math.min(ra, rb));
        }
        return Math.min(ra, rb);
    }

    private void producer(int g, Weight w, int axis, int node, int input) {
        Registered r = new Registered(g, new Slice(w.ref(), axis), node, input);
        producers.add(r);
        register(g, w, axis, node, input);
    }

    /** A layer that reads the group's channels from {@code activation} through its weight (input 1). */
    private void reader(int g, Weight w, int axis, int node, String activation, int axisFromEnd) {
        readers.put(new Reader(new Slice(w.ref(), axis), activation, axisFromEnd), g);
        register(g, w, axis, node, 1);
    }

    private void register(int g, Weight w, int axis, int node, int input) {
        registered.add(new Registered(g, new Slice(w.ref(), axis), node, input));
        channelFacts.computeIfAbsent(g, k -> new ArrayList<>()).add((int) w.dims()[axis]);
        if (!WeightBytes.supported(w.type())) {
            block(g, "weight '" + w.name() + "' of type " + w.type().label() + " cannot be cut");
        }
    }

    private void block(int g, String reason) {
        blocks.putIfAbsent(g, reason);
    }

    private void track(String tensor, int g, Layout layout) {
        tracked.put(tensor, new Tracked(g, layout));
        tensors.computeIfAbsent(g, k -> new LinkedHashSet<>()).add(tensor);
    }

    private boolean isWeight(String name) {
        return weight(name).isPresent();
    }

    private Optional<Weight> weight(String name) {
        if (name.isEmpty()) {
            return Optional.empty();
        }
        return model.weights().get(new Weight.Ref(GraphPath.MAIN, name));
    }

    private Optional<Weight> floatWeight(String name) {
        return weight(name).filter(w -> w.type() == DataType.FLOAT || w.type() == DataType.FLOAT16
                || w.type() == DataType.BFLOAT16 || w.type() == DataType.DOUBLE);
    }

    private static String input(NodeProto node, int index) {
        return index < node.getInputCount() ? node.getInput(index) : "";
    }

    static String describe(NodeProto node) {
        if (!node.getName().isEmpty()) {
            return node.getOpType() + " '" + node.getName() + "'";
        }
        return node.getOpType() + (node.getOutputCount() > 0 ? " (unnamed, output '" + node.getOutput(0) + "')" : " (unnamed)");
    }

    /** Gathers everything recorded per group under its root, then checks what the recording could not. */
    private List<Group> groups() {
        Map<Integer, String> blocked = new HashMap<>();
        blocks.forEach((g, reason) -> blocked.putIfAbsent(root(g), reason));
        Set<String> graphInputs = new HashSet<>();
        graph.getInputList().forEach(input -> graphInputs.add(input.getName()));

        // every use of a weight that is cut must be one that a group recorded, and one group per axis
        Map<Weight.Ref, Set<String>> recordedUses = new HashMap<>();
        Map<Slice, Set<Integer>> groupsPerSlice = new HashMap<>();
        for (Registered r : registered) {
            recordedUses.computeIfAbsent(r.slice().weight(), k -> new HashSet<>()).add(r.node() + ":" + r.input());
            groupsPerSlice.computeIfAbsent(r.slice(), k -> new HashSet<>()).add(root(r.group()));
        }
        for (Registered r : registered) {
            int g = root(r.group());
            Weight w = model.weights().get(r.slice().weight()).orElseThrow();
            if (graphInputs.contains(w.name())) {
                blocked.putIfAbsent(g, "weight '" + w.name() + "' is also a graph input, so callers may replace it");
            }
            for (Weight.Use use : w.uses()) {
                if (!use.graph().isMain() || !recordedUses.get(w.ref()).contains(use.nodeIndex() + ":" + use.inputIndex())) {
                    blocked.putIfAbsent(g, "weight '" + w.name() + "' is also read by " + use.opType()
                            + (use.nodeName().isEmpty() ? "" : " '" + use.nodeName() + "'"));
                }
            }
            if (groupsPerSlice.get(r.slice()).size() > 1) {
                blocked.putIfAbsent(g, "weight '" + w.name() + "' is shared by layers whose channels would be cut differently");
            }
        }

        Map<Integer, List<Integer>> facts = new HashMap<>();
        channelFacts.forEach((g, counts) -> facts.computeIfAbsent(root(g), k -> new ArrayList<>()).addAll(counts));
        Map<Integer, List<Integer>> members = new LinkedHashMap<>();
        for (int g = 0; g < parent.size(); g++) {
            members.computeIfAbsent(root(g), k -> new ArrayList<>()).add(g);
        }
        List<Group> result = new ArrayList<>();
        members.forEach((rootGroup, ids) -> {
            Set<Integer> idSet = new HashSet<>(ids);
            List<Integer> counts = facts.getOrDefault(rootGroup, List.of());
            int channels = counts.isEmpty() ? 0 : counts.get(0);
            if (counts.stream().distinct().count() > 1) {
                blocked.putIfAbsent(rootGroup, "its layers disagree on the channel count " + counts.stream().distinct().toList()
                        + " (broadcasting)");
            }
            List<Slice> groupProducers = producers.stream().filter(r -> idSet.contains(r.group())).map(Registered::slice)
                    .toList();
            List<Reader> groupReaders = readers.entrySet().stream().filter(r -> idSet.contains(r.getValue()))
                    .map(Map.Entry::getKey).toList();
            Set<Slice> slices = new LinkedHashSet<>();
            registered.stream().filter(r -> idSet.contains(r.group())).forEach(r -> slices.add(r.slice()));
            Set<Integer> depthwiseNodes = new HashSet<>();
            depthwise.forEach((node, g) -> {
                if (idSet.contains(g)) {
                    depthwiseNodes.add(node);
                }
            });
            Set<String> groupTensors = new LinkedHashSet<>();
            ids.forEach(g -> groupTensors.addAll(tensors.getOrDefault(g, Set.of())));
            String label = labels.get(rootGroup) + (ids.size() > 1 ? " and " + (ids.size() - 1) + " coupled layer"
                    + (ids.size() > 2 ? "s" : "") : "");
            result.add(new Group(label, channels, groupProducers, groupReaders, slices, depthwiseNodes, groupTensors,
                    Optional.ofNullable(blocked.get(rootGroup))));
        });
        return result;
    }
}

package io.modelpress.plugins.fp16;

import io.modelpress.model.DataType;
import io.modelpress.model.GraphPath;
import io.modelpress.model.Weight;
import io.modelpress.plugins.fp16.ModelAnalysis.GraphInfo;
import io.modelpress.plugins.fp16.ModelAnalysis.NodeInfo;
import io.modelpress.plugins.fp16.ModelAnalysis.Origin;
import io.modelpress.plugins.fp16.ModelAnalysis.Use;
import io.modelpress.plugins.fp16.ModelAnalysis.ValueKey;
import io.modelpress.plugins.fp16.OpSupport.Role;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The decisions: which nodes compute in half and which keep float32 (and why), which float32
 * values become half, and so where Casts must go. Every float32 value has one native type after
 * conversion, set by what produces it; every reader states the type it wants; where they differ
 * the rewriter puts a Cast.
 */
final class ConversionPlan {

    enum Mode {
        /** Touches no float32 value: left as it is. */
        NEUTRAL,
        HALF,
        /** Handles float32 values but keeps computing in float32. */
        FLOAT
    }

    /** Settings the plan follows. */
    record Settings(HalfType type, long opset, boolean keepIoTypes, Set<String> exclude) {
        Settings {
            Objects.requireNonNull(type, "type is null");
            exclude = Set.copyOf(exclude);
        }
    }

    /** Operators that move data or apply a trivial function: cheaper to keep in float32 between float32 operators. */
    private static final Set<String> FOLLOWERS = Set.of("Clip", "Concat", "DepthToSpace", "Dropout", "Expand", "Flatten",
            "Gather", "GatherElements", "GatherND", "Identity", "LeakyRelu", "Pad", "Relu", "Reshape", "Slice",
            "SpaceToDepth", "Split", "Squeeze", "Tile", "Transpose", "Unsqueeze");

    private static final String FOLLOWS_FLOAT = "moves or clips float32 data between float32 operators; "
            + "in half it would only add Casts";

    private final ModelAnalysis analysis;
    private final Settings settings;
    private final Map<Weight.Ref, Float> overflowing;
    private final Map<ValueKey, Float> activationPeaks;
    private final Map<NodeInfo, Mode> modes = new HashMap<>();
    private final Map<NodeInfo, String> reasons = new LinkedHashMap<>();
    private final Map<ValueKey, DataType> finalTypes = new HashMap<>();

    private ConversionPlan(ModelAnalysis analysis, Settings settings, Map<Weight.Ref, Float> overflowing,
            Map<ValueKey, Float> activationPeaks) {
        this.analysis = analysis;
        this.settings = settings;
        this.overflowing = overflowing;
        this.activationPeaks = activationPeaks;
    }

    /**
     * @param overflowing float32 weights with values beyond the half type's range, with their largest magnitude
     * @param activationPeaks computed float32 values measured beyond the half type's range, with their largest magnitude
     */
    static ConversionPlan of(ModelAnalysis analysis, Settings settings, Map<Weight.Ref, Float> overflowing,
            Map<ValueKey, Float> activationPeaks) {
        ConversionPlan plan = new ConversionPlan(analysis, settings, Map.copyOf(overflowing), Map.copyOf(activationPeaks));
        for (GraphInfo graph : analysis.graphs()) {
            graph.nodes().forEach(plan::decide);
        }
        Map<NodeInfo, List<GraphInfo>> subgraphs = new HashMap<>();
        for (GraphInfo graph : analysis.graphs()) {
            if (graph.owner() != null) {
                subgraphs.computeIfAbsent(graph.owner(), owner -> new ArrayList<>()).add(graph);
            }
        }
        plan.demoteFollowers(analysis.graph(GraphPath.MAIN), subgraphs);
        plan.settleValues();
        return plan;
    }

    Mode mode(NodeInfo node) {
        return modes.getOrDefault(node, Mode.NEUTRAL);
    }

    /** Why each node that handles float32 values keeps float32. */
    Map<NodeInfo, String> reasons() {
        return reasons;
    }

    HalfType type() {
        return settings.type();
    }

    /** The element type a value has after conversion; its original type unless it was float32 and became half. */
    DataType finalType(ValueKey key) {
        DataType original = analysis.type(key);
        return original == DataType.FLOAT ? finalTypes.getOrDefault(key, DataType.FLOAT) : original;
    }

    boolean becomesHalf(ValueKey key) {
        return key != null && analysis.isFloat(key) && finalType(key) == settings.type().dataType();
    }

    /** The type node input {@code index} needs, or empty when it takes whatever it is given. */
    Optional<DataType> wanted(NodeInfo node, int index) {
        ValueKey key = node.inputs.get(index);
        if (key == null || !analysis.isFloat(key)) {
            return Optional.empty();
        }
        Mode mode = mode(node);
        if (mode == Mode.NEUTRAL) {
            return Optional.empty();
        }
        Role role = OpSupport.inputRole(node.node, index);
        if (role == Role.ANY && ElementTypes.isDefaultDomain(node.node)) {
            return Optional.empty();
        }
        return Optional.of(mode == Mode.HALF && role == Role.T ? settings.type().dataType() : DataType.FLOAT);
    }

    /** The type graph output {@code index} must have, or empty to keep what it is. */
    Optional<DataType> wantedOutput(GraphInfo graph, int index) {
        ValueKey key = graph.outputs().get(index);
        if (key == null || !analysis.isFloat(key)) {
            return Optional.empty();
        }
        if (graph.owner() == null) {
            if (analysis.origin(key) != Origin.NODE) {
                return Optional.empty(); // an input or weight passed straight through keeps its type
            }
            return Optional.of(settings.keepIoTypes() ? DataType.FLOAT : settings.type().dataType());
        }
        boolean halfBranch = OpSupport.isIf(graph.owner().node) && mode(graph.owner()) == Mode.HALF;
        return Optional.of(halfBranch ? settings.type().dataType() : DataType.FLOAT);
    }

    private void decide(NodeInfo node) {
        if (!handlesFloat(node) || node.node.getOpType().equals("Constant")) {
            modes.put(node, Mode.NEUTRAL);
            return;
        }
        String reason = keepReason(node);
        modes.put(node, reason == null ? Mode.HALF : Mode.FLOAT);
        if (reason != null) {
            reasons.put(node, reason);
        }
    }

    private boolean handlesFloat(NodeInfo node) {
        for (int i = 0; i < node.inputs.size(); i++) {
            if (analysis.isFloat(node.inputs.get(i)) && !(OpSupport.inputRole(node.node, i) == Role.ANY
                    && ElementTypes.isDefaultDomain(node.node))) {
                return true;
            }
        }
        return node.outputs.stream().anyMatch(analysis::isFloat);
    }

    /** Null when the node can compute in half; otherwise the reason it keeps float32. */
    private String keepReason(NodeInfo node) {
        if (settings.exclude().contains(node.node.getName()) || settings.exclude().contains(node.node.getOpType())) {
            return "excluded by option 'exclude'";
        }
        if (OpSupport.isLoop(node.node)) {
            return "loop-carried and scanned values keep float32 at the loop boundary, so rounding does not "
                    + "accumulate across iterations; the body's own nodes are converted";
        }
        Optional<String> unsupported = OpSupport.unsupported(node.node, settings.type(), settings.opset());
        if (unsupported.isPresent()) {
            return unsupported.get();
        }
        if (analysis.isShapeNode(node)) {
            return "computes shapes or indices from constants and input shapes; kept exact in float32";
        }
        String peak = activationPeak(node);
        if (peak != null) {
            return peak;
        }
        for (int i = 0; i < node.inputs.size(); i++) {
            ValueKey key = node.inputs.get(i);
            if (key == null || OpSupport.inputRole(node.node, i) != Role.T) {
                continue;
            }
            Float magnitude = analysis.origin(key) == Origin.WEIGHT ? overflowing.get(key.ref()) : null;
            if (magnitude != null && analysis.isFloat(key)) {
                return String.format(java.util.Locale.ROOT, "reads weight '%s' whose values reach %.4g, beyond %s's "
                        + "largest finite value %.0f", key.name(), magnitude, settings.type().label(),
                        settings.type().maxFinite());
            }
            if (analysis.type(key) == DataType.UNDEFINED) {
                return "the type of input '" + key.name() + "' is unknown, so it cannot safely be made half";
            }
        }
        return null;
    }

    /**
     * A node that computes or reads a value measured beyond the half type's range keeps float32:
     * in half, that value would be infinity (a reader in half would get it through a Cast).
     */
    private String activationPeak(NodeInfo node) {
        for (ValueKey key : node.outputs) {
            if (key != null && activationPeaks.containsKey(key)) {
                return beyondRange("computes", key);
            }
        }
        for (ValueKey key : node.inputs) {
            if (key != null && activationPeaks.containsKey(key)) {
                return beyondRange("reads", key);
            }
        }
        return null;
    }

    private String beyondRange(String verb, ValueKey key) {
        return String.format(java.util.Locale.ROOT, "%s '%s', which reaches %.4g on the calibration data, beyond "
                + "%s's largest finite value %.0f", verb, key.name(), activationPeaks.get(key), settings.type().label(),
                settings.type().maxFinite());
    }

    /**
     * Data movement and trivial activations between float32 operators stay float32 too: made half,
     * they would only add a Cast on each side. Walks graphs in order, a subgraph where its owner
     * sits, so that a chain of such nodes follows its float32 producer all the way.
     */
    private void demoteFollowers(GraphInfo graph, Map<NodeInfo, List<GraphInfo>> subgraphs) {
        for (NodeInfo node : graph.nodes()) {
            for (GraphInfo subgraph : subgraphs.getOrDefault(node, List.of())) {
                demoteFollowers(subgraph, subgraphs);
            }
            if (mode(node) == Mode.HALF && FOLLOWERS.contains(node.node.getOpType()) && followsFloat(node)) {
                modes.put(node, Mode.FLOAT);
                reasons.put(node, FOLLOWS_FLOAT);
            }
        }
    }

    /** Whether no data input comes half from its producer and some comes float32 from a float32 producer. */
    private boolean followsFloat(NodeInfo node) {
        boolean fromFloat = false;
        for (int i = 0; i < node.inputs.size(); i++) {
            ValueKey key = node.inputs.get(i);
            if (key == null || !analysis.isFloat(key) || OpSupport.inputRole(node.node, i) != Role.T
                    || analysis.origin(key) == null) {
                continue;
            }
            switch (analysis.origin(key)) {
                case NODE -> {
                    NodeInfo producer = analysis.producer(key);
                    int output = producer.outputs.indexOf(key);
                    if (mode(producer) == Mode.HALF && OpSupport.outputRole(producer.node, output) == Role.T) {
                        return false;
                    }
                    fromFloat = true;
                }
                case GRAPH_INPUT -> {
                    if (key.graph().isMain() && !settings.keepIoTypes()) {
                        return false;
                    }
                    fromFloat |= !key.graph().isMain(); // a loop body's float32 interface
                }
                case OVERRIDABLE, SPARSE_WEIGHT -> fromFloat = true;
                case WEIGHT -> {
                    // weights take whatever type their readers want
                }
            }
        }
        return fromFloat;
    }

    /** Native types of float32 values once every node's mode is known. */
    private void settleValues() {
        DataType half = settings.type().dataType();
        for (GraphInfo graph : analysis.graphs()) {
            for (ValueKey input : graph.inputs()) {
                boolean halfInput = graph.owner() == null && !settings.keepIoTypes()
                        && analysis.origin(input) == Origin.GRAPH_INPUT;
                finalTypes.put(input, halfInput ? half : DataType.FLOAT);
            }
            for (NodeInfo node : graph.nodes()) {
                for (int o = 0; o < node.outputs.size(); o++) {
                    ValueKey output = node.outputs.get(o);
                    if (output == null || !analysis.isFloat(output)) {
                        continue;
                    }
                    if (analysis.origin(output) == Origin.WEIGHT) {
                        finalTypes.put(output, weightType(output));
                    } else {
                        boolean halfOutput = mode(node) == Mode.HALF && OpSupport.outputRole(node.node, o) == Role.T;
                        finalTypes.put(output, halfOutput ? half : DataType.FLOAT);
                    }
                }
            }
        }
        for (GraphInfo graph : analysis.graphs()) {
            graph.graph().getInitializerList().forEach(tensor -> {
                ValueKey key = new ValueKey(graph.path(), tensor.getName());
                if (analysis.origin(key) == Origin.WEIGHT) {
                    finalTypes.put(key, weightType(key));
                }
            });
        }
    }

    /**
     * A float32 weight becomes half when some reader computes in half with it, unless it would
     * overflow, feeds a shape computation (kept exact) or is part of the model's signature.
     */
    private DataType weightType(ValueKey key) {
        if (!analysis.isFloat(key) || overflowing.containsKey(key.ref()) || analysis.feedsShapes(key)) {
            return DataType.FLOAT;
        }
        if (key.graph().isMain() && isMainOutput(key)) {
            return DataType.FLOAT;
        }
        for (Use use : analysis.uses(key)) {
            if (wanted(use.node(), use.input()).orElse(DataType.FLOAT) == settings.type().dataType()) {
                return settings.type().dataType();
            }
        }
        return DataType.FLOAT;
    }

    private boolean isMainOutput(ValueKey key) {
        return analysis.graph(GraphPath.MAIN).outputs().contains(key);
    }
}

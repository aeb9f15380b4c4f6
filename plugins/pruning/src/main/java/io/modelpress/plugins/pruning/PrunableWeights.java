package io.modelpress.plugins.pruning;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.modelpress.model.DataType;
import io.modelpress.model.Graphs;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Weight;
import io.modelpress.spi.PluginException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The weights that unstructured pruning may zero: float tensors that only MatMul, Gemm, Conv or
 * ConvTranspose read as their weight operand, in any graph and whether initializers or Constant
 * nodes, of at least a minimum size and not excluded by the user. The rest of the candidates are
 * kept with the reason they were left alone.
 */
final class PrunableWeights {

    /** Operators whose weights are pruned, and which of their inputs are weights. */
    private static final Map<String, Set<Integer>> WEIGHT_INPUTS = Map.of(
            "MatMul", Set.of(0, 1),
            "Gemm", Set.of(0, 1),
            "Conv", Set.of(1),
            "ConvTranspose", Set.of(1));

    private static final Set<DataType> FLOATS = Set.of(DataType.FLOAT, DataType.FLOAT16, DataType.BFLOAT16,
            DataType.DOUBLE);

    private static final int LISTED = 12;

    record Left(String part, String reason) {
    }

    private final List<Weight> eligible;
    private final List<Left> left;

    private PrunableWeights(List<Weight> eligible, List<Left> left) {
        this.eligible = List.copyOf(eligible);
        this.left = List.copyOf(left);
    }

    /**
     * Sorts the model's weights.
     *
     * @param exclude node names, operator types or weight names to leave alone
     * @throws PluginException when an excluded item names nothing in the model
     */
    static PrunableWeights of(OnnxModel model, List<String> exclude, long minElements) throws PluginException {
        checkExclusions(model, exclude);
        Set<String> excluded = Set.copyOf(exclude);
        List<Weight> eligible = new ArrayList<>();
        List<Left> left = new ArrayList<>();
        List<String> small = new ArrayList<>();
        for (Weight weight : model.weights().all()) {
            if (weight.uses().stream().noneMatch(PrunableWeights::isWeightInput)) {
                continue; // not a layer weight at all (biases, norms, shapes): not worth a line
            }
            String reason = reason(weight, excluded, minElements);
            if (reason == null) {
                eligible.add(weight);
            } else if (reason.isEmpty()) {
                small.add(weight.ref().toString());
            } else {
                left.add(new Left(weight.ref().toString(), reason));
            }
        }
        if (!small.isEmpty()) {
            left.add(new Left(small.size() + " small weights", "under min-elements (" + minElements + "): "
                    + abbreviate(small)));
        }
        return new PrunableWeights(eligible, left);
    }

    List<Weight> eligible() {
        return eligible;
    }

    List<Left> left() {
        return left;
    }

    /** Why a layer weight is left alone: null if it is pruned, "" if only for its size. */
    private static String reason(Weight weight, Set<String> excluded, long minElements) {
        for (Weight.Use use : weight.uses()) {
            if (!isWeightInput(use)) {
                return "also read by " + use.opType() + " " + nodeLabel(use) + " (input " + use.inputIndex()
                        + "), which pruning would change";
            }
        }
        for (Weight.Use use : weight.uses()) {
            if (excluded.contains(use.nodeName()) || excluded.contains(use.opType())) {
                return "excluded: read by " + use.opType() + " " + nodeLabel(use);
            }
        }
        if (excluded.contains(weight.name())) {
            return "excluded by name";
        }
        if (!FLOATS.contains(weight.type())) {
            return "type " + weight.type().label() + ": only float weights are pruned (prune before quantizing)";
        }
        if (weight.rank() < 2) {
            return "rank " + weight.rank() + ": not a layer's weight matrix or kernel";
        }
        return weight.elements() < minElements ? "" : null;
    }

    static boolean isWeightInput(Weight.Use use) {
        Set<Integer> inputs = use.domain().isEmpty() || use.domain().equals("ai.onnx")
                ? WEIGHT_INPUTS.get(use.opType()) : null;
        return inputs != null && inputs.contains(use.inputIndex());
    }

    /** Refuses exclusions that name nothing in the model, listing the layers a user may name. */
    static void checkExclusions(OnnxModel model, List<String> exclude) throws PluginException {
        if (exclude.isEmpty()) {
            return;
        }
        Set<String> known = new LinkedHashSet<>();
        Graphs.forEach(model.proto(), (path, graph) -> {
            for (NodeProto node : graph.getNodeList()) {
                known.add(node.getName());
                known.add(node.getOpType());
            }
        });
        model.weights().all().forEach(weight -> known.add(weight.name()));
        List<String> unknown = exclude.stream().filter(item -> !known.contains(item)).toList();
        if (!unknown.isEmpty()) {
            throw new PluginException("exclude: " + unknown.stream().map(item -> "'" + item + "'")
                    .collect(Collectors.joining(", ")) + (unknown.size() == 1 ? " names" : " name")
                    + " no node, operator type or weight of the model; layers with prunable weights: "
                    + candidates(model));
        }
    }

    /** "fc1 (Gemm), fc2 (Gemm), ..." — the layers a user may name, unnamed ones by their weight. */
    private static String candidates(OnnxModel model) {
        Map<String, String> layers = new LinkedHashMap<>();
        for (Weight weight : model.weights().all()) {
            for (Weight.Use use : weight.uses()) {
                if (isWeightInput(use)) {
                    String name = use.nodeName().isEmpty() ? "weight " + weight.name() : use.nodeName();
                    layers.putIfAbsent(name, use.opType());
                }
            }
        }
        if (layers.isEmpty()) {
            return "none (no MatMul, Gemm or Conv reads a weight)";
        }
        List<String> entries = new ArrayList<>();
        layers.forEach((name, op) -> entries.add(name + " (" + op + ")"));
        Set<String> types = new TreeSet<>(layers.values());
        return abbreviate(entries) + "; operator types: " + String.join(", ", types);
    }

    private static String nodeLabel(Weight.Use use) {
        return use.nodeName().isEmpty() ? "#" + use.nodeIndex() + " in " + use.graph() : "'" + use.nodeName() + "'";
    }

    static String abbreviate(List<String> items) {
        if (items.size() <= LISTED) {
            return String.join(", ", items);
        }
        return String.join(", ", items.subList(0, LISTED)) + String.format(Locale.ROOT, " and %d more",
                items.size() - LISTED);
    }
}

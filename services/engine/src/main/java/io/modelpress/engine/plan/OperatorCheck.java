package io.modelpress.engine.plan;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import io.modelpress.model.Graphs;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.Precision;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A compressed graph checked against what its profile's target runs. Two rules, both about the operators
 * the graph really uses (subgraphs included), not about what a chain promised:
 * <ul>
 * <li>a profile that declares its operators (e.g. {@code mcu}) refuses a graph using any other, named by its
 * domain-qualified name ({@code Conv}, {@code com.microsoft.QGemm});</li>
 * <li>a profile whose precisions are all integer refuses a graph whose heavy operators compute in floating
 * point: each must be an integer operator or take its data and weight from DequantizeLinear (a QDQ group the
 * target's converter fuses into an integer kernel). A layer decoding its weights from a codebook, or a
 * BatchNormalization left unfolded, lists as Conv or MatMul yet computes in fp32.</li>
 * </ul>
 *
 * @param used every operator the graph uses, domain-qualified, sorted
 * @param outside used operators the profile's list does not hold; empty when it declares none
 * @param floating heavy operators that compute in floating point on an integer-only profile, by name
 * @param heavy how many heavy operators the graph has
 */
record OperatorCheck(Set<String> used, Set<String> outside, List<String> floating, int heavy) {

    /** Operators that carry the arithmetic of a layer when they compute in floating point. */
    private static final Set<String> HEAVY = Set.of("Conv", "ConvTranspose", "MatMul", "Gemm", "LSTM", "GRU", "RNN",
            "Attention", "BatchNormalization", "InstanceNormalization", "LayerNormalization");

    private static final int NAMED = 3;

    OperatorCheck {
        used = Set.copyOf(new TreeSet<>(used));
        outside = Set.copyOf(new TreeSet<>(outside));
        floating = List.copyOf(floating);
    }

    /** Whether the profile asks for any check at all: an operator list, or integer compute only. */
    static boolean applies(HardwareProfile profile) {
        return profile.operators().isPresent() || integerOnly(profile);
    }

    static OperatorCheck of(OnnxModel model, HardwareProfile profile) {
        Objects.requireNonNull(model, "model is null");
        Objects.requireNonNull(profile, "profile is null");
        Set<String> used = new TreeSet<>();
        List<String> floating = new ArrayList<>();
        int[] heavy = {0};
        boolean integerOnly = integerOnly(profile);
        Graphs.forEach(model.proto(), (path, graph) -> {
            Set<String> dequantized = dequantizedValues(graph);
            for (NodeProto node : graph.getNodeList()) {
                used.add(qualifiedName(node));
                if (!HEAVY.contains(node.getOpType())) {
                    continue;
                }
                heavy[0]++;
                boolean integer = node.getInputCount() >= 2 && dequantized.contains(node.getInput(0))
                        && dequantized.contains(node.getInput(1));
                if (integerOnly && !integer) {
                    floating.add(node.getOpType() + (node.getName().isEmpty() ? "" : " '" + node.getName() + "'"));
                }
            }
        });
        Set<String> outside = new TreeSet<>();
        profile.operators().ifPresent(listed -> used.stream().filter(name -> !listed.contains(name)).forEach(outside::add));
        return new OperatorCheck(used, outside, floating, heavy[0]);
    }

    /** Why the model does not fit the profile's target, or empty when it does (or the profile checks nothing). */
    static Optional<String> violation(OnnxModel model, HardwareProfile profile) {
        return of(model, profile).violation(profile);
    }

    Optional<String> violation(HardwareProfile profile) {
        List<String> problems = new ArrayList<>();
        if (!outside.isEmpty()) {
            problems.add("uses " + (outside.size() == 1 ? "operator " : "operators ") + String.join(", ", new TreeSet<>(outside))
                    + " that profile '" + profile.id() + "' does not list");
        }
        if (!floating.isEmpty()) {
            problems.add(floating.size() + " of " + heavy + " compute operators compute in floating point ("
                    + String.join(", ", floating.subList(0, Math.min(NAMED, floating.size())))
                    + (floating.size() > NAMED ? ", ..." : "") + ") and profile '" + profile.id() + "' runs only "
                    + precisions(profile));
        }
        return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
    }

    /** This check as one of the chosen result's budget checks; {@code not-checked} when the profile asks for none. */
    BudgetCheck budgetCheck(HardwareProfile profile) {
        return budgetCheck(Optional.of(this), profile);
    }

    static BudgetCheck budgetCheck(Optional<OperatorCheck> check, HardwareProfile profile) {
        String limit = limit(profile);
        if (!applies(profile)) {
            return BudgetCheck.notChecked("operators", limit, "profile '" + profile.id()
                    + "' declares no operator list and runs floating point");
        }
        if (check.isEmpty()) {
            return BudgetCheck.notChecked("operators", limit, "the compressed graph could not be read");
        }
        OperatorCheck result = check.get();
        return new BudgetCheck("operators", limit, Optional.of(result.used.size() + " operators used: "
                + String.join(", ", new TreeSet<>(result.used))), result.violation(profile).isEmpty() ? BudgetCheck.MET
                        : BudgetCheck.MISSED, result.violation(profile));
    }

    private static String limit(HardwareProfile profile) {
        List<String> parts = new ArrayList<>();
        profile.operators().ifPresent(listed -> parts.add("the " + listed.size() + " operators profile '" + profile.id()
                + "' lists"));
        if (integerOnly(profile)) {
            parts.add("compute in " + precisions(profile) + " only");
        }
        return parts.isEmpty() ? "none declared" : String.join(", ", parts);
    }

    /** {@code Conv} in the default ONNX domain, {@code com.microsoft.QGemm} in another. */
    static String qualifiedName(NodeProto node) {
        return isDefaultDomain(node.getDomain()) ? node.getOpType() : node.getDomain() + "." + node.getOpType();
    }

    private static boolean isDefaultDomain(String domain) {
        return domain.isEmpty() || domain.equals("ai.onnx");
    }

    private static boolean integerOnly(HardwareProfile profile) {
        return !profile.precisions().isEmpty() && !(profile.runs(Precision.FP32) || profile.runs(Precision.FP16)
                || profile.runs(Precision.BF16));
    }

    private static String precisions(HardwareProfile profile) {
        return profile.precisions().stream().map(Precision::label).sorted().reduce((a, b) -> a + ", " + b).orElse("");
    }

    private static Set<String> dequantizedValues(GraphProto graph) {
        Set<String> values = new HashSet<>();
        for (NodeProto node : graph.getNodeList()) {
            if (node.getOpType().equals("DequantizeLinear")) {
                values.addAll(node.getOutputList());
            }
        }
        return values;
    }
}

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
import java.util.Optional;
import java.util.Set;

/**
 * The output graph checked against a profile that runs only integer precisions (such as
 * {@code mcu}): its heavy operators must compute in integers, as integer operators
 * (MatMulInteger, QLinearConv, ...) or as QDQ groups whose data and weight come from
 * DequantizeLinear. A layer that computes in floating point (weights decoded from a codebook, a
 * BatchNormalization left unfolded) is what the target cannot run, whatever the file's size says.
 */
final class IntegerCompute {

    /** Operators that carry the arithmetic of a layer when they compute in floating point. */
    private static final Set<String> HEAVY = Set.of("Conv", "ConvTranspose", "MatMul", "Gemm", "LSTM", "GRU", "RNN",
            "Attention", "BatchNormalization", "InstanceNormalization", "LayerNormalization");

    private IntegerCompute() {
    }

    /** Why the model does not fit an integer-only profile, or empty when it does (or the profile runs floats). */
    static Optional<String> violation(OnnxModel model, HardwareProfile profile) {
        if (profile.runs(Precision.FP32) || profile.runs(Precision.FP16) || profile.runs(Precision.BF16)) {
            return Optional.empty();
        }
        List<String> floating = new ArrayList<>();
        int[] heavy = {0};
        Graphs.forEach(model.proto(), (path, graph) -> {
            Set<String> dequantized = dequantizedValues(graph);
            for (NodeProto node : graph.getNodeList()) {
                if (!HEAVY.contains(node.getOpType())) {
                    continue;
                }
                heavy[0]++;
                boolean integer = node.getInputCount() >= 2 && dequantized.contains(node.getInput(0))
                        && dequantized.contains(node.getInput(1));
                if (!integer) {
                    floating.add(node.getOpType() + (node.getName().isEmpty() ? "" : " '" + node.getName() + "'"));
                }
            }
        });
        if (floating.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(floating.size() + " of " + heavy[0] + " compute operators compute in floating point ("
                + String.join(", ", floating.subList(0, Math.min(3, floating.size())))
                + (floating.size() > 3 ? ", ..." : "") + ") and profile '" + profile.id() + "' runs only "
                + profile.precisions().stream().map(Precision::label).sorted().reduce((a, b) -> a + ", " + b).orElse(""));
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

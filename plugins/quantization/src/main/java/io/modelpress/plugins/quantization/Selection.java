package io.modelpress.plugins.quantization;

import io.modelpress.model.DataType;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The weights a quantizer may touch, and every large weight it may not with the reason.
 *
 * @param candidates float32 weights whose every reader tolerates a quantized value
 * @param skipped weights of at least {@code minElements} left as they are, each with the reason
 */
record Selection(List<Weight> candidates, List<PluginResult.Skipped> skipped) {

    Selection {
        candidates = List.copyOf(candidates);
        skipped = List.copyOf(skipped);
    }

    /**
     * Sorts the model's weights. Weights read by an excluded node (by name or op type) stay float.
     *
     * @throws PluginException when a weight to quantize holds NaN or infinity
     */
    static Selection of(OnnxModel model, int minElements, Set<String> excludeNodes, Set<String> excludeOps)
            throws PluginException {
        List<Weight> candidates = new ArrayList<>();
        List<PluginResult.Skipped> skipped = new ArrayList<>();
        for (Weight weight : model.weights().all()) {
            if (weight.elements() < minElements) {
                continue;
            }
            Optional<String> reason = reason(weight, excludeNodes, excludeOps);
            if (reason.isPresent()) {
                skipped.add(new PluginResult.Skipped(describe(weight), reason.get()));
                continue;
            }
            float[] values = Tensors.toFloats(model.weights().tensor(weight.ref()));
            int bad = Tensors.firstNonFinite(values);
            if (bad >= 0) {
                throw new PluginException("weight '" + weight.ref() + "' holds " + values[bad] + " at index " + bad
                        + "; a tensor with NaN or infinity cannot be quantized (fix the model or exclude its readers)");
            }
            candidates.add(weight);
        }
        return new Selection(candidates, skipped);
    }

    static String describe(Weight weight) {
        return "weight '" + weight.ref() + "' " + io.modelpress.model.Shapes.format(weight.dims());
    }

    private static Optional<String> reason(Weight weight, Set<String> excludeNodes, Set<String> excludeOps) {
        if (weight.type() != DataType.FLOAT) {
            return Optional.of(weight.type().isFloatingPoint()
                    ? "a " + weight.type().label() + " tensor: only float32 weights are quantized"
                    : "a " + weight.type().label() + " tensor (shapes, indices or already integer), not a float weight");
        }
        if (weight.uses().isEmpty()) {
            return Optional.of("no node reads it");
        }
        for (Weight.Use use : weight.uses()) {
            if (excludeNodes.contains(use.nodeName()) || excludeOps.contains(use.opType())) {
                return Optional.of("kept in float: read by excluded node '" + use.nodeName() + "' (" + use.opType() + ")");
            }
        }
        for (Weight.Use use : weight.uses()) {
            Optional<String> refusal = Consumers.refusal(use);
            if (refusal.isPresent()) {
                return refusal;
            }
        }
        return Optional.empty();
    }
}

package io.modelpress.plugins.lowrank;

import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.ProgressCounter;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/** Decomposes layers in parallel (one SVD per layer) and chooses each layer's rank. */
final class LayerFactorizer {

    /**
     * What became of one layer.
     *
     * @param layer the layer
     * @param factors its factors, or null when it is left as it was
     * @param skipReason why it is left, when {@code factors} is null
     */
    record Outcome(Layer layer, TruncatedSvd.Factors factors, String skipReason) {
        Outcome {
            Objects.requireNonNull(layer, "layer is null");
        }

        static Outcome skip(Layer layer, String reason) {
            return new Outcome(layer, null, reason);
        }
    }

    private final OnnxModel model;
    private final RankRule rule;
    private final PluginContext context;

    LayerFactorizer(OnnxModel model, RankRule rule, PluginContext context) {
        this.model = Objects.requireNonNull(model, "model is null");
        this.rule = Objects.requireNonNull(rule, "rule is null");
        this.context = Objects.requireNonNull(context, "context is null");
    }

    /** The outcome of every layer, in the order given. */
    List<Outcome> factorAll(List<Layer> layers) {
        ProgressCounter progress = new ProgressCounter(context, 0.05, 0.9, layers.size());
        // Layers are independent: one SVD per task, as many at once as there are cores.
        return layers.parallelStream().map(layer -> {
            context.checkCancelled();
            Outcome outcome = factor(layer);
            progress.unitDone("factored " + layer.label());
            return outcome;
        }).toList();
    }

    Outcome factor(Layer layer) {
        float[] matrix = LowRankPlugin.matrix(model, layer);
        if (Tensors.firstNonFinite(matrix) >= 0) {
            return Outcome.skip(layer, "the weight holds NaN or infinite values");
        }
        TruncatedSvd.Spectrum spectrum;
        try {
            spectrum = TruncatedSvd.decompose(matrix, layer.rows(), layer.cols());
        } catch (IllegalStateException e) {
            return Outcome.skip(layer, "the SVD of its " + layer.rows() + "×" + layer.cols() + " matrix did not converge");
        }
        int rank = rule.choose(spectrum);
        if (rank == 0) {
            return Outcome.skip(layer, "the weight is all zeros");
        }
        long factored = layer.parameters(rank);
        if (factored >= layer.parameters()) {
            return Outcome.skip(layer, String.format(Locale.ROOT,
                    "no saving: %s needs rank %d of %d (energy %.6f), and its factors would hold %d parameters,"
                            + " not fewer than the weight's %d",
                    rule.describe(), rank, Math.min(layer.rows(), layer.cols()), spectrum.energyKept(rank), factored,
                    layer.parameters()));
        }
        return new Outcome(layer, spectrum.truncate(rank), null);
    }
}

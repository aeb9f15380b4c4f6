package io.modelpress.plugins.lowrank;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import io.modelpress.model.Graphs;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.model.ValueNames;
import io.modelpress.model.Weight;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.OptionSpec;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.PluginSpi;
import io.modelpress.spi.Technique;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Low-rank factorization: a MatMul or Gemm weight W (K × N) becomes two factors K × r and r × N
 * from its truncated SVD, so the layer becomes two products; a group=1 Conv with C_out filters
 * becomes a Conv with r filters followed by a 1×1 Conv with C_out filters, from the SVD of the
 * weight reshaped to C_out × (C_in·kernel). A layer is changed only where the factors hold fewer
 * parameters than the weight (r·(rows + cols) &lt; rows·cols); every other layer is reported with
 * the reason it was left.
 */
public final class LowRankPlugin implements CompressionPlugin {

    static final String ENERGY = "energy";
    static final String RANK_RATIO = "rank-ratio";
    static final String RANK = "rank";
    static final String MIN_ELEMENTS = "min-elements";
    static final String EXCLUDE = "exclude";

    private static final int LISTED_LAYERS = 10;

    @Override
    public String id() {
        return "low-rank";
    }

    @Override
    public String version() {
        return "1.0.0";
    }

    @Override
    public int spiVersion() {
        return PluginSpi.VERSION;
    }

    @Override
    public Technique technique() {
        return Technique.LOW_RANK;
    }

    @Override
    public String description() {
        return "Factors MatMul, Gemm and Conv weights into two low-rank layers by truncated SVD where it saves parameters";
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(
                OptionSpec.number(ENERGY, 0.95, 0.001, 0.99999999,
                        "fraction of the squared singular values each layer keeps; the rank is the smallest that"
                                + " keeps it (used unless rank or rank-ratio is set)"),
                OptionSpec.number(RANK_RATIO, 0, 0, 1,
                        "rank as a fraction of min(rows, cols) of each layer; 0 = not used (overrides energy)"),
                OptionSpec.integer(RANK, 0, 0, 1_000_000,
                        "the same rank for every layer; 0 = not used (overrides energy; an error where a layer's"
                                + " min(rows, cols) is smaller)"),
                OptionSpec.integer(MIN_ELEMENTS, 1024, 1, Integer.MAX_VALUE,
                        "smallest weight, in elements, worth factoring"),
                OptionSpec.list(EXCLUDE, "", List.of(),
                        "node names, weight names or operator types (MatMul, Gemm, Conv) to leave as they are"));
    }

    @Override
    public PluginResult apply(OnnxModel model, PluginOptions options, PluginContext context) throws PluginException {
        RankRule rule = rule(options);
        context.progress(0, "finding MatMul, Gemm and Conv weights");
        LayerFinder.Scan scan = LayerFinder.scan(model);
        Set<String> exclude = new LinkedHashSet<>(options.list(EXCLUDE));
        checkExclusions(model, scan, exclude);
        List<LayerFinder.Skip> skipped = new ArrayList<>(scan.skipped());
        List<Layer> chosen = new ArrayList<>();
        int minElements = options.intValue(MIN_ELEMENTS);
        for (Layer layer : scan.layers()) {
            if (isExcluded(layer, exclude)) {
                skipped.add(new LayerFinder.Skip(layer.label(), "excluded by option '" + EXCLUDE + "'"));
            } else if (layer.weight().elements() < minElements) {
                skipped.add(new LayerFinder.Skip(layer.label(), layer.weight().elements()
                        + " elements, fewer than " + MIN_ELEMENTS + " " + minElements));
            } else {
                chosen.add(layer);
            }
        }
        for (Layer layer : chosen) {
            if (!rule.fits(layer.rows(), layer.cols())) {
                throw new PluginException("option '" + RANK + "' = " + rule.rank() + " is larger than min(rows, cols) = "
                        + Math.min(layer.rows(), layer.cols()) + " of layer " + layer.label()
                        + "; lower it, or leave the layer out with option '" + EXCLUDE + "'");
            }
        }
        context.checkCancelled();
        List<LayerFactorizer.Outcome> outcomes = new LayerFactorizer(model, rule, context).factorAll(chosen);
        context.checkCancelled();
        context.progress(0.9, "writing the factored layers");
        ValueNames names = ValueNames.of(model.proto());
        List<FactorWriter.Edit> edits = new ArrayList<>();
        for (LayerFactorizer.Outcome outcome : outcomes) {
            if (outcome.factors() == null) {
                skipped.add(new LayerFinder.Skip(outcome.layer().label(), outcome.skipReason()));
            } else {
                edits.add(FactorWriter.edit(outcome.layer(), outcome.factors(), names));
            }
        }
        ModelProto proto = FactorWriter.apply(model.proto(), edits);
        OnnxModel factored = model.withProto(proto);
        context.progress(1, "done");
        return report(model, factored, rule, outcomes, skipped);
    }

    private static PluginResult report(OnnxModel model, OnnxModel factored, RankRule rule,
            List<LayerFactorizer.Outcome> outcomes, List<LayerFinder.Skip> skipped) {
        PluginResult.Builder result = PluginResult.builder(factored);
        long layerBefore = 0;
        long layerAfter = 0;
        int count = 0;
        double minEnergy = 1;
        for (LayerFactorizer.Outcome outcome : outcomes) {
            TruncatedSvd.Factors factors = outcome.factors();
            if (factors == null) {
                continue;
            }
            Layer layer = outcome.layer();
            count++;
            layerBefore += layer.parameters();
            layerAfter += layer.parameters(factors.rank());
            minEnergy = Math.min(minEnergy, factors.energyKept());
            result.change(String.format(Locale.ROOT,
                    "%s: %d×%d → rank %d of %d (%s), energy kept %.6f, relative error %.4f, parameters %d → %d",
                    layer.label(), layer.rows(), layer.cols(), factors.rank(), Math.min(layer.rows(), layer.cols()),
                    layer.kind() == Layer.Kind.CONV ? "Conv + 1×1 Conv" : "two products", factors.energyKept(),
                    factors.relativeError(), layer.parameters(), layer.parameters(factors.rank())));
        }
        if (count == 0) {
            result.change("no layer factored with " + rule.describe() + (skipped.isEmpty()
                    ? ": the model has no MatMul, Gemm or Conv weights" : "; see the skipped layers for why"));
        }
        skipped.forEach(skip -> result.skipped(skip.part(), skip.reason()));
        long before = model.weights().totalElements();
        long after = factored.weights().totalElements();
        result.figure("layers-factored", count)
                .figure("layers-skipped", skipped.size())
                .figure("parameters-before", before)
                .figure("parameters-after", after)
                .figure("parameters-removed", before - after)
                .figure("factored-layer-parameters-before", layerBefore)
                .figure("factored-layer-parameters-after", layerAfter);
        if (count > 0) {
            result.figure("min-energy-kept", minEnergy);
        }
        return result.build();
    }

    static RankRule rule(PluginOptions options) throws PluginException {
        long rank = options.integer(RANK);
        double ratio = options.number(RANK_RATIO);
        if (rank > 0 && ratio > 0) {
            throw new PluginException("options '" + RANK + "' and '" + RANK_RATIO + "' are both set; give one of them");
        }
        if (rank > 0) {
            return RankRule.rank(Math.toIntExact(rank));
        }
        if (ratio > 0) {
            return RankRule.ratio(ratio);
        }
        return RankRule.energy(options.number(ENERGY));
    }

    private static boolean isExcluded(Layer layer, Set<String> exclude) {
        return exclude.contains(layer.kind().opType()) || exclude.contains(layer.weight().name())
                || !layer.nodeName().isEmpty() && exclude.contains(layer.nodeName());
    }

    /** Every item must name a node, a weight or an operator type; a typo would silently exclude nothing. */
    private static void checkExclusions(OnnxModel model, LayerFinder.Scan scan, Set<String> exclude)
            throws PluginException {
        if (exclude.isEmpty()) {
            return;
        }
        Set<String> known = new HashSet<>(List.of("MatMul", "Gemm", "Conv"));
        model.weights().all().forEach(weight -> known.add(weight.name()));
        Graphs.forEach(model.proto(), (path, graph) -> {
            for (NodeProto node : graph.getNodeList()) {
                if (!node.getName().isEmpty()) {
                    known.add(node.getName());
                }
            }
        });
        List<String> unknown = exclude.stream().filter(item -> !known.contains(item)).toList();
        if (!unknown.isEmpty()) {
            List<String> layers = scan.layers().stream()
                    .map(layer -> layer.nodeName().isEmpty() ? layer.weight().name() : layer.nodeName()).toList();
            String listed = layers.stream().limit(LISTED_LAYERS).collect(Collectors.joining(", "))
                    + (layers.size() > LISTED_LAYERS ? " and " + (layers.size() - LISTED_LAYERS) + " more" : "");
            throw new PluginException("option '" + EXCLUDE + "' names no node, weight or operator type of this model: "
                    + String.join(", ", unknown) + "; layers that can be factored: "
                    + (layers.isEmpty() ? "none" : listed) + " (operator types: MatMul, Gemm, Conv)");
        }
    }

    /** Whether a Gemm stores its weight transposed (N × K). */
    static boolean transB(NodeProto node) {
        return Nodes.intAttribute(node, "transB", 0) != 0;
    }

    /** The weight as the matrix its layer multiplies by: a Gemm weight stored with transB=1 is transposed. */
    static float[] matrix(OnnxModel model, Layer layer) {
        Weight weight = layer.weight();
        float[] values = Tensors.toFloats(model.weights().tensor(weight.ref()));
        if (layer.kind() != Layer.Kind.GEMM || !transB(layer.node())) {
            return values;
        }
        int storedRows = layer.cols();
        int storedCols = layer.rows();
        float[] transposed = new float[values.length];
        for (int i = 0; i < storedRows; i++) {
            for (int j = 0; j < storedCols; j++) {
                transposed[j * storedRows + i] = values[i * storedCols + j];
            }
        }
        return transposed;
    }
}

package io.modelpress.plugins.pruning;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Shapes;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.model.WeightIndex;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.OptionSpec;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.PluginSpi;
import io.modelpress.spi.Technique;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Unstructured magnitude pruning: the weights of smallest magnitude in MatMul, Gemm and Conv
 * layers become zero until the target sparsity is reached, over all layers at once (one
 * threshold), layer by layer, or over all layers by layer-adaptive scores. Shapes do not change,
 * so an ONNX file does not get smaller by itself; the zeros pay off once packaged (the
 * {@code package} plugin), and the report measures both sizes.
 */
public final class MagnitudePruningPlugin implements CompressionPlugin {

    static final String SPARSITY = "sparsity";
    static final String SCOPE = "scope";
    static final String EXCLUDE = "exclude";
    static final String MIN_ELEMENTS = "min-elements";
    static final String MEASURE_PACKED = "measure-packed";
    static final String GLOBAL = "global";
    static final String PER_LAYER = "per-layer";
    static final String LAMP = "lamp";

    /** Sparsity is a fraction below 1: pruning every weight would leave no model. */
    static final double MAX_SPARSITY = 0.999;

    @Override
    public String id() {
        return "magnitude-pruning";
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
        return Technique.PRUNING;
    }

    @Override
    public String description() {
        return "Zeroes the smallest-magnitude MatMul/Gemm/Conv weights to a target sparsity (pays off once packaged)";
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(
                OptionSpec.number(SPARSITY, 0.5, 0, MAX_SPARSITY,
                        "fraction of the eligible weights that end up zero (weights already zero count)"),
                OptionSpec.choice(SCOPE, GLOBAL, List.of(GLOBAL, PER_LAYER, LAMP),
                        "global: one magnitude threshold over all layers; per-layer: every layer to the same sparsity;"
                                + " lamp: one threshold over layer-adaptive scores (each weight's square over the sum of"
                                + " the squares of its layer's weights at least as large), so that no layer is emptied"),
                OptionSpec.list(EXCLUDE, "", List.of(), "node names, operator types (e.g. Conv) or weight names to leave dense"),
                OptionSpec.integer(MIN_ELEMENTS, 1024, 1, Integer.MAX_VALUE, "smallest weight, in elements, worth pruning"),
                OptionSpec.flag(MEASURE_PACKED, true, "measure the zstd-packed size before and after (level "
                        + PackedSize.LEVEL + ")"));
    }

    @Override
    public PluginResult apply(OnnxModel model, PluginOptions options, PluginContext context) throws PluginException {
        double sparsity = options.number(SPARSITY);
        String scope = options.text(SCOPE);
        boolean global = !scope.equals(PER_LAYER);
        if (sparsity == 0) {
            throw new PluginException("nothing to prune: sparsity 0 zeroes no weight; give the fraction of weights to"
                    + " zero, above 0 and at most " + MAX_SPARSITY);
        }
        context.progress(0.0, "finding prunable weights");
        PrunableWeights prunable = PrunableWeights.of(model, options.list(EXCLUDE), options.integer(MIN_ELEMENTS));
        List<Weight> weights = prunable.eligible();
        if (weights.isEmpty()) {
            throw new PluginException("nothing to prune: no MatMul, Gemm or Conv weight is eligible"
                    + reasons(prunable));
        }
        WeightIndex index = model.weights();
        List<float[]> values = IntStream.range(0, weights.size()).parallel()
                .mapToObj(i -> Tensors.toFloats(index.tensor(weights.get(i).ref()))).toList();
        long[] zerosBefore = values.stream().mapToLong(MagnitudeSelect::zeros).toArray();
        long total = values.stream().mapToLong(v -> v.length).sum();
        long zerosTotalBefore = sum(zerosBefore);
        context.checkCancelled();

        context.progress(0.2, "selecting the smallest magnitudes");
        Report result = new Report();
        double threshold = switch (scope) {
            case PER_LAYER -> pruneEachLayer(weights, values, zerosBefore, sparsity, result, context);
            case LAMP -> pruneByLayerAdaptiveScores(values, total, zerosTotalBefore, sparsity);
            default -> pruneGlobally(values, total, zerosTotalBefore, sparsity);
        };
        context.checkCancelled();

        context.progress(0.6, "writing the pruned weights");
        long[] zerosAfter = values.stream().mapToLong(MagnitudeSelect::zeros).toArray();
        Map<Weight.Ref, TensorProto> replacements = new LinkedHashMap<>();
        for (int i = 0; i < weights.size(); i++) {
            Weight weight = weights.get(i);
            if (zerosAfter[i] > zerosBefore[i]) {
                replacements.put(weight.ref(), WeightBytes.withZeros(index.tensor(weight.ref()), values.get(i)));
                result.change(line(weight, zerosBefore[i], zerosAfter[i]));
            } else if (global) {
                result.skipped(weight.ref().toString(), String.format(Locale.ROOT,
                        "all its weights lie above the global %s threshold %.3g (sparsity stays %s)",
                        scope.equals(LAMP) ? "layer-adaptive score" : "magnitude", threshold,
                        percent(zerosAfter[i], weight.elements())));
            }
        }
        ModelProto pruned = WeightIndex.replace(model.proto(), replacements);
        OnnxModel output = model.withProto(pruned);
        prunable.left().forEach(left -> result.skipped(left.part(), left.reason()));

        long zerosTotalAfter = sum(zerosAfter);
        result.figure("sparsity", (double) zerosTotalAfter / total)
                .figure("sparsity-before", (double) zerosTotalBefore / total)
                .figure("eligible-weights", total)
                .figure("pruned-weights", zerosTotalAfter - zerosTotalBefore)
                .figure("tensors-pruned", replacements.size())
                .figure("nonzero-parameters", model.weights().totalElements() - zerosTotalAfter
                        - zerosOutside(model, weights))
                .figure("onnx-bytes", output.serializedSize());
        if (global) {
            result.figure(scope.equals(LAMP) ? "score-threshold" : "threshold", threshold);
        }
        if (options.flag(MEASURE_PACKED)) {
            context.progress(0.8, "measuring the packed size");
            long before = PackedSize.of(model.proto());
            context.checkCancelled();
            long after = PackedSize.of(pruned);
            result.figure("zstd-bytes-before", before).figure("zstd-bytes", after);
            result.change(String.format(Locale.ROOT, "ONNX file %,d bytes (zeros take as much room as the values"
                    + " they replace); zstd level %d packs it to %,d bytes, from %,d before pruning (%.2fx smaller)",
                    output.serializedSize(), PackedSize.LEVEL, after, before, (double) before / after));
        }
        context.progress(1.0, "done");
        return result.build(output);
    }

    /** One threshold for all layers: exactly round(sparsity × total) weights end up zero. */
    private static double pruneGlobally(List<float[]> values, long total, long zerosBefore, double sparsity)
            throws PluginException {
        long k = zerosWanted(total, zerosBefore, sparsity);
        MagnitudeSelect.Cut cut = MagnitudeSelect.kthSmallest(values, k);
        MagnitudeSelect.zeroSmallest(values, k, cut);
        return cut.magnitude();
    }

    /**
     * One threshold over layer-adaptive scores (LAMP, Lee et al. 2021): a weight's square over the sum of the squares
     * of the weights of its layer that are at least as large. Scores compare across layers of different scales, and
     * each layer's largest weight scores 1, so no layer loses all its weights. Returns the score threshold.
     */
    private static double pruneByLayerAdaptiveScores(List<float[]> values, long total, long zerosBefore,
            double sparsity) throws PluginException {
        long k = zerosWanted(total, zerosBefore, sparsity);
        List<float[]> scores = values.parallelStream().map(MagnitudeSelect::layerAdaptiveScores).toList();
        MagnitudeSelect.Cut cut = MagnitudeSelect.kthSmallest(scores, k);
        MagnitudeSelect.zeroSmallest(scores, k, cut);
        IntStream.range(0, values.size()).parallel().forEach(layer -> {
            float[] weights = values.get(layer);
            float[] score = scores.get(layer);
            for (int i = 0; i < weights.length; i++) {
                if (score[i] == 0f) {
                    weights[i] = 0f;
                }
            }
        });
        return cut.magnitude();
    }

    /** How many of the weights must be zero for the target; refuses a target the weights already meet. */
    private static long zerosWanted(long total, long zerosBefore, double sparsity) throws PluginException {
        long k = Math.round(sparsity * total);
        if (zerosBefore >= k) {
            throw new PluginException(String.format(Locale.ROOT, "nothing to prune: the %,d eligible weights are"
                    + " already %s sparse, at or above the target %s", total, percent(zerosBefore, total),
                    percent(k, total)));
        }
        return k;
    }

    /** Every layer to the same sparsity; layers already there are left as they are. */
    private static double pruneEachLayer(List<Weight> weights, List<float[]> values, long[] zerosBefore,
            double sparsity, Report result, PluginContext context) throws PluginException {
        int pruned = 0;
        for (int i = 0; i < weights.size(); i++) {
            context.checkCancelled();
            context.progress(0.2 + 0.4 * i / weights.size(), "layer " + (i + 1) + " of " + weights.size());
            float[] layer = values.get(i);
            long k = Math.round(sparsity * layer.length);
            if (zerosBefore[i] >= k) {
                result.skipped(weights.get(i).ref().toString(), "already " + percent(zerosBefore[i], layer.length)
                        + " sparse, at or above the target " + percent(k, layer.length));
                continue;
            }
            List<float[]> one = List.of(layer);
            MagnitudeSelect.zeroSmallest(one, k, MagnitudeSelect.kthSmallest(one, k));
            pruned++;
        }
        if (pruned == 0) {
            throw new PluginException("nothing to prune: every one of the " + weights.size()
                    + " eligible weights is already at or above the target sparsity " + percent(sparsity));
        }
        return Double.NaN;
    }

    /** Zeros in weights that are not pruned here, so that the non-zero count covers the whole model. */
    private static long zerosOutside(OnnxModel model, List<Weight> pruned) {
        java.util.Set<Weight.Ref> inside = new java.util.HashSet<>();
        pruned.forEach(w -> inside.add(w.ref()));
        return model.weights().all().parallelStream()
                .filter(w -> !inside.contains(w.ref()) && w.type().isFloatingPoint() && WeightBytes.supported(w.type()))
                .mapToLong(w -> MagnitudeSelect.zeros(Tensors.toFloats(model.weights().tensor(w.ref()))))
                .sum();
    }

    private static String line(Weight weight, long zerosBefore, long zerosAfter) {
        String where = weight.uses().stream().findFirst()
                .map(use -> use.opType() + (use.nodeName().isEmpty() ? "" : " '" + use.nodeName() + "'")).orElse("");
        return String.format(Locale.ROOT, "%s %s (%s): %,d of %,d weights zero, sparsity %s -> %s",
                weight.ref(), Shapes.format(weight.dims()), where, zerosAfter, weight.elements(),
                percent(zerosBefore, weight.elements()), percent(zerosAfter, weight.elements()));
    }

    private static String reasons(PrunableWeights prunable) {
        if (prunable.left().isEmpty()) {
            return " (the model has no MatMul, Gemm or Conv layer reading a weight)";
        }
        List<String> reasons = new ArrayList<>();
        prunable.left().forEach(left -> reasons.add(left.part() + ": " + left.reason()));
        return ": " + PrunableWeights.abbreviate(reasons);
    }

    private static long sum(long[] values) {
        long total = 0;
        for (long value : values) {
            total += value;
        }
        return total;
    }

    static String percent(long part, long whole) {
        return percent(whole == 0 ? 0 : (double) part / whole);
    }

    static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * fraction);
    }
}

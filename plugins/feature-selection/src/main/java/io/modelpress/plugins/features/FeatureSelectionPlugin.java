package io.modelpress.plugins.features;

import io.modelpress.model.OnnxModel;
import io.modelpress.model.Shapes;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.OptionSpec;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.PluginSpi;
import io.modelpress.spi.SelectedFeatures;
import io.modelpress.spi.Technique;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Input-feature selection for models with a flat feature input [N, F] read by one MatMul or Gemm:
 * features are ranked by what they move the first layer by (weight-row norms; with calibration
 * data, the measured effect of replacing each by its mean), the negligible ones leave the input and
 * the weight, and with calibration data the cut is checked on the model's outputs and made smaller
 * until it keeps within the accepted fidelity loss. The result has a smaller input: callers pass
 * only the kept features, in their original order, which the report, the model's metadata and the
 * {@value #ARTIFACT} file list.
 */
public final class FeatureSelectionPlugin implements CompressionPlugin {

    static final String KEEP_RATIO = "keep-ratio";
    static final String THRESHOLD = "threshold";
    static final String MAX_FIDELITY_LOSS = "max-fidelity-loss";
    static final String INPUT = "input";
    static final String ARTIFACT = "selected-features.json";

    @Override
    public String id() {
        return "feature-selection";
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
        return Technique.FEATURE_SELECTION;
    }

    @Override
    public String description() {
        return "Removes input features with negligible influence from a flat [N, F] input and its first MatMul or Gemm;"
                + " the model then takes only the kept features";
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(
                OptionSpec.number(KEEP_RATIO, 0, 0, 1, "fraction of the features to keep, the most influential;"
                        + " 0 = not used (then 'threshold' decides)"),
                OptionSpec.number(THRESHOLD, 0.01, 0, 1, "a feature goes when its score is below this fraction of the"
                        + " largest feature score (score: weight-row norm, or with calibration data the measured"
                        + " effect of replacing it by its mean)"),
                OptionSpec.number(MAX_FIDELITY_LOSS, 0.01, 0, 1, "with calibration data, the most fidelity the cut"
                        + " may lose (the larger of 1 - mean cosine and 1 - top-1 agreement of the outputs); fewer"
                        + " features go when it would lose more"),
                OptionSpec.text(INPUT, "", "the flat feature input to narrow; empty = the model's only one"));
    }

    @Override
    public PluginResult apply(OnnxModel model, PluginOptions options, PluginContext context) throws PluginException {
        context.progress(0, "finding a flat feature input");
        FeatureLayer layer = FeatureLayer.find(model, options.text(INPUT));
        float[] matrix = layer.matrix(model);
        Optional<CalibrationData> data = context.calibrationData();
        context.progress(0.05, "scoring " + layer.features() + " features");
        FeatureScores scores = data.isPresent()
                ? FeatureScores.ofData(matrix, layer, data.get())
                : FeatureScores.ofWeights(matrix, layer.features(), layer.hidden());
        double[] score = scores.scores();
        int[] order = ascending(score);
        int wanted = removable(score, order, options);
        context.checkCancelled();
        Cut cut = data.isPresent()
                ? fitToFidelity(model, layer, matrix, scores, order, wanted, options.number(MAX_FIDELITY_LOSS),
                        OutputComparison.of(model, layer, data.get(), context), context)
                : new Cut(wanted, kept(order, wanted), null);
        context.progress(0.95, "writing the model with " + cut.kept().length + " features");
        InputSlicer.Sliced sliced = InputSlicer.slice(model, layer, matrix, cut.kept(), scores.means());
        int[] original = InputSlicer.originalIndices(model, layer, cut.kept());
        Path artifact = writeArtifact(context.tempDir(), layer, original);
        context.progress(1, "done");
        return report(model, layer, scores, options, wanted, cut, sliced, original, artifact);
    }

    /**
     * A choice of features to remove.
     *
     * @param removed how many of the lowest-scoring features go
     * @param kept indices of the rest in the model's current input, ascending
     * @param measure how close the model stays on the calibration data, null without data
     */
    record Cut(int removed, int[] kept, OutputComparison.Measure measure) {
    }

    /** Feature indices by ascending score, ties by index. */
    static int[] ascending(double[] scores) {
        return IntStream.range(0, scores.length).boxed()
                .sorted(Comparator.<Integer>comparingDouble(j -> scores[j]).thenComparingInt(j -> j))
                .mapToInt(Integer::intValue).toArray();
    }

    /** How many features the options would remove (at least one feature always stays). */
    static int removable(double[] scores, int[] order, PluginOptions options) throws PluginException {
        int features = scores.length;
        double ratio = options.number(KEEP_RATIO);
        if (ratio > 0) {
            int keep = Math.max(1, (int) Math.ceil(ratio * features - 1e-9));
            if (keep >= features) {
                throw new PluginException("nothing to select: option '" + KEEP_RATIO + "' = " + ratio + " keeps all "
                        + features + " features");
            }
            return features - keep;
        }
        double threshold = options.number(THRESHOLD);
        double largest = scores[order[features - 1]];
        int below = 0;
        while (below < features - 1 && scores[order[below]] < threshold * largest) {
            below++;
        }
        if (largest == 0) {
            below = features - 1; // nothing moves the layer: keep one feature so the input stays
        }
        if (below == 0) {
            throw new PluginException(String.format(Locale.ROOT, "nothing to select: every one of the %d features"
                    + " scores at least %s of the largest (the smallest scores %.4g of it); raise option '%s' or set"
                    + " '%s'", features, threshold, scores[order[0]] / largest, THRESHOLD, KEEP_RATIO));
        }
        return below;
    }

    /**
     * The cut of {@code wanted} features if it keeps within {@code maxLoss} on the data, otherwise the
     * largest smaller cut that does, found by bisection (the loss grows with the features removed).
     */
    private static Cut fitToFidelity(OnnxModel model, FeatureLayer layer, float[] matrix, FeatureScores scores,
            int[] order, int wanted, double maxLoss, OutputComparison comparison, PluginContext context)
            throws PluginException {
        Cut best = measure(model, layer, matrix, scores, order, wanted, comparison);
        context.progress(0.3, "measured the cut of " + wanted + " features");
        if (best.measure().loss() <= maxLoss) {
            return best;
        }
        Cut worst = best;
        int low = 0;
        int high = wanted;
        best = null;
        int steps = 0;
        int total = 32 - Integer.numberOfLeadingZeros(wanted);
        while (high - low > 1) {
            int middle = (low + high) >>> 1;
            Cut candidate = measure(model, layer, matrix, scores, order, middle, comparison);
            if (candidate.measure().loss() <= maxLoss) {
                low = middle;
                best = candidate;
            } else {
                high = middle;
            }
            context.progress(Math.min(0.9, 0.3 + 0.6 * ++steps / total), "bisecting: " + middle + " features removed");
        }
        if (best == null) {
            throw new PluginException(String.format(Locale.ROOT, "nothing to select: removing even the least"
                    + " influential feature loses more fidelity than option '%s' = %s allows (removing %d loses %.4g)",
                    MAX_FIDELITY_LOSS, maxLoss, wanted, worst.measure().loss()));
        }
        return best;
    }

    private static Cut measure(OnnxModel model, FeatureLayer layer, float[] matrix, FeatureScores scores, int[] order,
            int removed, OutputComparison comparison) throws PluginException {
        int[] kept = kept(order, removed);
        OnnxModel candidate = InputSlicer.slice(model, layer, matrix, kept, scores.means()).model();
        return new Cut(removed, kept, comparison.measure(candidate, kept));
    }

    /** The features left when the {@code removed} lowest-scoring go, ascending. */
    static int[] kept(int[] order, int removed) {
        int[] kept = Arrays.copyOfRange(order, removed, order.length);
        Arrays.sort(kept);
        return kept;
    }

    /** The kept features as JSON: the input, the counts and the original indices in input order. */
    private static Path writeArtifact(Path folder, FeatureLayer layer, int[] kept) throws PluginException {
        String json = "{\n  \"input\": \"" + layer.input().replace("\\", "\\\\").replace("\"", "\\\"") + "\",\n"
                + "  \"features-before\": " + layer.features() + ",\n  \"features-after\": " + kept.length + ",\n"
                + "  \"kept\": [" + Arrays.stream(kept).mapToObj(Integer::toString).collect(Collectors.joining(", "))
                + "]\n}\n";
        try {
            Files.createDirectories(folder);
            return Files.writeString(folder.resolve(ARTIFACT), json, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new PluginException("cannot write " + ARTIFACT + " in " + folder + ": " + e.getMessage(), e);
        }
    }

    private static PluginResult report(OnnxModel model, FeatureLayer layer, FeatureScores scores,
            PluginOptions options, int wanted, Cut cut, InputSlicer.Sliced sliced, int[] original, Path artifact) {
        int features = layer.features();
        int after = cut.kept().length;
        long[] weightBefore = layer.weight().dims();
        long[] weightAfter = weightBefore.clone();
        weightAfter[layer.featuresAlongRows() ? 0 : 1] = after;
        String rule = options.number(KEEP_RATIO) > 0
                ? KEEP_RATIO + " " + options.number(KEEP_RATIO)
                : "score below " + options.number(THRESHOLD) + " of the largest";
        String scoring = scores.measured()
                ? "effect of replacing each by its mean, measured on " + scores.rows() + " calibration rows"
                : "weight-row norm (no calibration data: removed features count as 0)";
        SelectedFeatures selected = new SelectedFeatures(layer.input(), original);
        PluginResult.Builder result = PluginResult.builder(sliced.model())
                .change(String.format(Locale.ROOT, "input '%s': %d → %d features; removed the %d scoring lowest by %s"
                        + " (%s); their means folded in: %s", layer.input(), features, after, cut.removed(), scoring, rule,
                        sliced.bias()))
                .change("callers pass only the kept features, in this order (original indices): "
                        + selected.metadataValue() + " (also in metadata '" + selected.metadataKey() + "' and " + ARTIFACT + ")")
                .change(layer.label() + ": weight " + Shapes.format(weightBefore) + " → " + Shapes.format(weightAfter))
                .artifact(ARTIFACT, artifact)
                .figure("features-before", features)
                .figure("features-after", after)
                .figure("features-removed", cut.removed())
                .figure("parameters-before", model.weights().totalElements())
                .figure("parameters-after", sliced.model().weights().totalElements());
        OutputComparison.Measure measure = cut.measure();
        if (measure != null) {
            result.change(String.format(Locale.ROOT, "on %d calibration rows: mean cosine %.6f, top-1 agreement %.4f,"
                    + " fidelity loss %.4g (at most %s)", measure.rows(), measure.meanCosine(), measure.top1Agreement(),
                    measure.loss(), options.number(MAX_FIDELITY_LOSS)))
                    .figure("calibration-rows", measure.rows())
                    .figure("mean-cosine", measure.meanCosine())
                    .figure("top1-agreement", measure.top1Agreement())
                    .figure("fidelity-loss", measure.loss());
            if (cut.removed() < wanted) {
                result.skipped((wanted - cut.removed()) + " more low-scoring features of input '" + layer.input() + "'",
                        "removing them too would lose more fidelity than " + MAX_FIDELITY_LOSS + " "
                                + options.number(MAX_FIDELITY_LOSS) + " allows");
            }
        } else {
            result.skipped("fidelity check", "no calibration data: the effect on the outputs was not measured");
        }
        return result.build();
    }
}

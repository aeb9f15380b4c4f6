package io.modelpress.plugins.quantization;

import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.OptionSpec;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.PluginSpi;
import io.modelpress.spi.Precision;
import io.modelpress.spi.QuantizedFormat;
import io.modelpress.spi.Technique;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * int8 weights, activations quantized at run time: MatMul/Gemm in operator form (MatMulInteger)
 * or every weight through DequantizeLinear (QDQ), as the profile prefers. With {@code smooth}, the
 * outlier channels of activations are first moved into the weights (see {@link Smoothing}).
 */
public final class Int8DynamicPlugin implements CompressionPlugin {

    static final String FORMAT = "format";
    static final String SMOOTH = "smooth";
    static final String SMOOTH_OUTLIER_RATIO = "smooth-outlier-ratio";
    static final String SMOOTH_ADD_MUL = "smooth-add-mul";

    @Override
    public String id() {
        return "int8-dynamic";
    }

    @Override
    public String version() {
        return "1.2.0";
    }

    @Override
    public int spiVersion() {
        return PluginSpi.VERSION;
    }

    @Override
    public Technique technique() {
        return Technique.QUANTIZATION;
    }

    @Override
    public String description() {
        return "int8 weights of MatMul/Gemm, embeddings, kernels and recurrent layers; activations quantized at run time";
    }

    @Override
    public List<OptionSpec> options() {
        List<OptionSpec> options = new ArrayList<>(Pipeline.commonOptions(true));
        options.add(OptionSpec.choice(FORMAT, "auto", List.of("auto", "qdq", "operator"),
                "operator: MatMulInteger with DynamicQuantizeLinear; qdq: DequantizeLinear on weights; auto: the profile's"));
        options.add(OptionSpec.number(SMOOTH, 0, 0, 1, "activation smoothing for integer MatMul/Gemm, from calibration "
                + "data: the share a of each input channel's range moved from the activation into the weight "
                + "(s = max|x|^a / max|w|^(1-a)); 0: off; 0.6-0.8 suits transformers with outlier channels; with "
                + "fidelity-target, only the activations with the strongest outliers that the target needs"));
        options.add(OptionSpec.number(SMOOTH_OUTLIER_RATIO, 5, 1, 1e6, "with smooth: only activations whose largest "
                + "channel range is at least this many times the median channel's are smoothed (1: all)"));
        options.add(OptionSpec.flag(SMOOTH_ADD_MUL, true, "with smooth: also smooth activations that no node making "
                + "them can take 1/s into, with a Mul in front of their readers; false adds no node (no run-time cost) "
                + "and smooths only where 1/s folds into a LayerNormalization or a Mul by a constant"));
        return options;
    }

    @Override
    public Set<Precision> requiredPrecisions() {
        return Set.of(Precision.INT8);
    }

    @Override
    public PluginResult apply(OnnxModel model, PluginOptions options, PluginContext context) throws PluginException {
        boolean operator = switch (options.text(FORMAT)) {
            case "operator" -> true;
            case "qdq" -> false;
            default -> context.profile().quantizedFormat() == QuantizedFormat.OPERATOR;
        };
        double alpha = options.number(SMOOTH);
        if (alpha > 0 && context.calibrationData().isEmpty()) {
            throw new PluginException("option '" + SMOOTH + "' = " + alpha
                    + " measures activation ranges on calibration data, and none was supplied");
        }
        return Pipeline.run(model, options, context, options.flag(Pipeline.SYMMETRIC),
                (m, weights) -> new DynamicScheme(operator),
                smoothing(alpha, options.number(SMOOTH_OUTLIER_RATIO), options.flag(SMOOTH_ADD_MUL), operator, context));
    }

    /** Smoothing where activations are quantized at run time (operator form); the QDQ form keeps them float. */
    private static Pipeline.Preparation smoothing(double alpha, double minOutlierRatio, boolean addMul, boolean operator,
            PluginContext context) {
        if (alpha == 0) {
            return Pipeline.Preparation.NONE;
        }
        if (!operator) {
            return (model, selection, calibration, judge) -> new Pipeline.Prepared(model, List.of("option '" + SMOOTH
                    + "' has no effect in QDQ form: activations stay float, only weights are quantized"), Map.of());
        }
        return (model, selection, calibration, judge) -> {
            DynamicScheme scheme = new DynamicScheme(true);
            Writer probe = new Writer(model, false, true, Writer.WeightForm.CAST_MUL);
            Smoothing.Plan plan = Smoothing.plan(model, selection.candidates(), w -> scheme.integerCompute(probe, w),
                    alpha, minOutlierRatio, addMul, calibration.orElseThrow(), context);
            int count = judge.isPresent() ? fewestToSmooth(plan, judge.get(), context) : plan.size();
            Smoothing.Outcome outcome = plan.smooth(count);
            return new Pipeline.Prepared(outcome.model(), List.of(Smoothing.describe(outcome, alpha, minOutlierRatio)),
                    Map.of("activations-smoothed", (double) outcome.activations()));
        };
    }

    /**
     * With a fidelity target, only as many activations are smoothed as the target needs, strongest
     * outliers first: each smoothed activation that no node can absorb costs a Mul at run time. None
     * when the model reaches the target without smoothing; all when even that is not enough (the
     * automatic mode then keeps layers in float).
     */
    private static int fewestToSmooth(Smoothing.Plan plan, Pipeline.Judge judge, PluginContext context)
            throws PluginException {
        if (plan.size() == 0) {
            return 0;
        }
        Pipeline.Trial trial = n -> {
            context.progress(0.1, "smoothing: trying the " + n + " strongest of " + plan.size() + " activations");
            return judge.fidelity(plan.smooth(n).model());
        };
        return trial.fidelity(0) >= judge.target() ? 0 : Pipeline.fewest(plan.size(), trial, judge.target());
    }
}

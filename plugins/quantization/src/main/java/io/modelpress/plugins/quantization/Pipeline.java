package io.modelpress.plugins.quantization;

import io.modelpress.model.OnnxModel;
import io.modelpress.model.Weight;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.ModelRunner;
import io.modelpress.spi.OptionSpec;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.TensorData;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What the three quantizers share: refusing already quantized models, choosing weights and
 * reporting the rest, mixed precision by exclusion, and the automatic mode that keeps the most
 * sensitive layers in float until the output fidelity target is met.
 */
final class Pipeline {

    static final String PER_CHANNEL = "per-channel";
    static final String SYMMETRIC = "symmetric";
    static final String MIN_ELEMENTS = "min-elements";
    static final String EXCLUDE_NODES = "exclude-nodes";
    static final String EXCLUDE_OPS = "exclude-ops";
    static final String FIDELITY_TARGET = "fidelity-target";
    static final String WEIGHT_ONLY_FORM = "weight-only-form";

    /** Samples the automatic mode measures sensitivity on; more cost time and rarely change the order. */
    static final int SENSITIVITY_SAMPLES = 8;

    /** Makes the plugin's scheme once the weights to quantize are known. */
    interface SchemeFactory {
        Scheme create(OnnxModel model, List<Weight> candidates) throws PluginException;
    }

    private Pipeline() {
    }

    static List<OptionSpec> commonOptions(boolean symmetricDefault) {
        return List.of(
                OptionSpec.flag(PER_CHANNEL, true, "one scale per output channel (row of an embedding) instead of one per tensor"),
                OptionSpec.flag(SYMMETRIC, symmetricDefault, "zero point at the grid's centre (else fitted to each range)"),
                OptionSpec.integer(MIN_ELEMENTS, 1024, 1, Integer.MAX_VALUE,
                        "smallest weight, in elements, worth quantizing; smaller ones stay float"),
                OptionSpec.list(EXCLUDE_NODES, "", List.of(), "node names whose weights stay float (mixed precision)"),
                OptionSpec.list(EXCLUDE_OPS, "", List.of(), "operator types whose weights stay float, e.g. Conv,Gather"),
                OptionSpec.choice(WEIGHT_ONLY_FORM, "auto", List.of("auto", "dequantize-linear", "cast-mul"),
                        "form of weights whose readers compute in float: dequantize-linear (for providers that take QDQ "
                                + "groups), cast-mul (ONNX Runtime CPU folds it at load: fp32 speed), auto: by the profile"),
                OptionSpec.number(FIDELITY_TARGET, 0, 0, 1, "automatic mixed precision: keep the most sensitive layers float "
                        + "until the output cosine on calibration data reaches this (0: off)"));
    }

    static PluginResult run(OnnxModel model, PluginOptions options, PluginContext context, boolean symmetric,
            SchemeFactory factory) throws PluginException {
        context.progress(0, "checking the model");
        Optional<String> quantized = AlreadyQuantized.evidence(model);
        if (quantized.isPresent()) {
            return PluginResult.builder(model)
                    .change("nothing to do: the model is quantized already (" + quantized.get() + "); it is left as it is")
                    .figure("weights-quantized", 0)
                    .build();
        }
        double target = options.number(FIDELITY_TARGET);
        Optional<CalibrationData> calibration = context.calibrationData();
        if (target > 0 && calibration.isEmpty()) {
            throw new PluginException("option '" + FIDELITY_TARGET + "' = " + target
                    + " measures layer sensitivity on calibration data, and none was supplied");
        }
        if (calibration.isPresent()) {
            CalibrationCheck.check(model, calibration.get());
        }
        Selection selection = Selection.of(model, options.intValue(MIN_ELEMENTS), Set.copyOf(options.list(EXCLUDE_NODES)),
                Set.copyOf(options.list(EXCLUDE_OPS)));
        PluginResult.Builder result = PluginResult.builder(model);
        selection.skipped().forEach(s -> result.skipped(s.part(), s.reason()));
        if (selection.candidates().isEmpty()) {
            return result.change("nothing to quantize: no float32 weight of at least " + options.intValue(MIN_ELEMENTS)
                    + " elements is read by an operator that takes a quantized weight").figure("weights-quantized", 0).build();
        }
        context.checkCancelled();
        Scheme scheme = factory.create(model, selection.candidates());
        boolean perChannel = options.flag(PER_CHANNEL);
        Writer.WeightForm form = weightForm(options, context);
        Mix mix = new Mix(selection.candidates(), List.of());
        Map<String, Double> autoFigures = new LinkedHashMap<>();
        if (target > 0) {
            mix = automatic(model, scheme, selection.candidates(), perChannel, symmetric, form, target, calibration.get(),
                    context, result, autoFigures);
        }
        int quantizedCount = mix.full().size() + mix.weightOnly().size();
        context.progress(0.9, "writing " + quantizedCount + " quantized weights");
        Writer writer = new Writer(model, perChannel, symmetric, form);
        scheme.write(writer, mix.full(), mix.weightOnly());
        OnnxModel output = model.withProto(writer.edit.build());
        PluginResult.Builder built = PluginResult.builder(output);
        result.build().skipped().forEach(s -> built.skipped(s.part(), s.reason()));
        writer.changeLines().forEach(built::change);
        if (writer.opset < 13 && output.proto().getOpsetImportList().stream()
                .anyMatch(o -> o.getDomain().equals(ModelEdit.MS_DOMAIN))
                && model.proto().getOpsetImportList().stream().noneMatch(o -> o.getDomain().equals(ModelEdit.MS_DOMAIN))) {
            built.change("default opset " + writer.opset + " kept; quantization operators use ONNX Runtime's com.microsoft domain");
        }
        long before = model.serializedSize();
        long after = output.serializedSize();
        if (!mix.weightOnly().isEmpty()) {
            built.change(mix.weightOnly().size() + " layers kept int8 weights with float compute by the automatic mode: "
                    + mix.weightOnly().stream().map(w -> w.ref().toString()).collect(java.util.stream.Collectors.joining(", ")));
        }
        built.figure("weights-quantized", quantizedCount)
                .figure("weights-skipped", selection.skipped().size() + (selection.candidates().size() - quantizedCount))
                .figure("bytes-before", before)
                .figure("bytes-after", after)
                .figure("size-ratio", after == 0 ? 0 : (double) before / after);
        autoFigures.forEach(built::figure);
        context.progress(1, "done");
        return built.build();
    }

    /** Which weights take the plugin's own form and which int8 weight-only; the rest stay float. */
    record Mix(List<Weight> full, List<Weight> weightOnly) {
    }

    /**
     * The mix that reaches {@code target} while keeping as much as possible quantized. Layers are
     * ranked by the output cosine each gives when it alone is quantized; the most sensitive step
     * down first to int8 weight-only (float compute) and, only if that is not enough, to float.
     */
    private static Mix automatic(OnnxModel model, Scheme scheme, List<Weight> candidates, boolean perChannel,
            boolean symmetric, Writer.WeightForm form, double target, CalibrationData data, PluginContext context,
            PluginResult.Builder result, Map<String, Double> figures) throws PluginException {
        List<Map<String, TensorData>> samples = new ArrayList<>();
        for (int s = 0; s < Math.min(SENSITIVITY_SAMPLES, data.size()); s++) {
            samples.add(data.sample(s));
        }
        List<Map<String, TensorData>> reference = run(context, model, samples);
        Evaluator evaluate = (full, weightOnly) -> {
            context.checkCancelled();
            Writer writer = new Writer(model, perChannel, symmetric, form);
            scheme.write(writer, full, weightOnly);
            return Fidelities.worstMeanCosine(reference, run(context, model.withProto(writer.edit.build()), samples));
        };
        double all = evaluate.fidelity(candidates, List.of());
        figures.put("fidelity-all-quantized", all);
        Mix mix = new Mix(candidates, List.of());
        double fidelity = all;
        if (all < target && scheme.hasIntegerCompute()) {
            List<Weight> ranked = rank(candidates, w -> evaluate.fidelity(List.of(w), List.of()), context, "integer compute");
            int k = fewest(ranked.size(), n -> evaluate.fidelity(ranked.subList(n, ranked.size()), ranked.subList(0, n)),
                    target);
            mix = new Mix(ranked.subList(k, ranked.size()), ranked.subList(0, k));
            fidelity = evaluate.fidelity(mix.full(), mix.weightOnly());
        }
        List<Weight> kept = List.of();
        if (fidelity < target) {
            // int8 weights alone cost too much somewhere: the most sensitive of them stay float
            List<Weight> ranked = rank(candidates, w -> evaluate.fidelity(List.of(), List.of(w)), context, "int8 weights");
            int k = fewest(ranked.size(), n -> evaluate.fidelity(List.of(), ranked.subList(n, ranked.size())), target);
            kept = ranked.subList(0, k);
            mix = new Mix(List.of(), ranked.subList(k, ranked.size()));
            fidelity = evaluate.fidelity(mix.full(), mix.weightOnly());
            for (Weight weight : kept) {
                result.skipped(Selection.describe(weight), String.format(Locale.ROOT, "kept in float by the automatic mode "
                        + "(fidelity target %.4f): among the %d layers whose int8 weights cost the output most", target, k));
            }
        }
        figures.put("fidelity", fidelity);
        figures.put("layers-weight-only", (double) mix.weightOnly().size());
        figures.put("layers-kept-float", (double) kept.size());
        return mix;
    }

    private interface Evaluator {
        double fidelity(List<Weight> full, List<Weight> weightOnly) throws PluginException;
    }

    private interface Score {
        double of(Weight weight) throws PluginException;
    }

    private interface Trial {
        double fidelity(int demoted) throws PluginException;
    }

    /** Candidates, most sensitive first: lowest output cosine when quantized alone. */
    private static List<Weight> rank(List<Weight> candidates, Score score, PluginContext context, String what)
            throws PluginException {
        Map<Weight, Double> alone = new LinkedHashMap<>();
        for (int i = 0; i < candidates.size(); i++) {
            context.progress(0.3 + 0.5 * i / candidates.size(), "sensitivity to " + what + ": layer " + (i + 1) + " of "
                    + candidates.size());
            alone.put(candidates.get(i), score.of(candidates.get(i)));
        }
        List<Weight> ranked = new ArrayList<>(candidates);
        ranked.sort(Comparator.comparingDouble(alone::get));
        return ranked;
    }

    /** The fewest most-sensitive layers to demote for {@code target}: doubling, then bisection. */
    private static int fewest(int count, Trial trial, double target) throws PluginException {
        int low = 0;
        int high = 1;
        while (true) {
            high = Math.min(high, count);
            if (trial.fidelity(high) >= target || high == count) {
                break;
            }
            low = high;
            high *= 2;
        }
        while (high - low > 1) {
            int mid = (low + high) / 2;
            if (trial.fidelity(mid) >= target) {
                high = mid;
            } else {
                low = mid;
            }
        }
        return high;
    }

    /** DequantizeLinear for providers that execute QDQ groups; on ONNX Runtime's CPU provider the form it folds. */
    static Writer.WeightForm weightForm(PluginOptions options, PluginContext context) {
        return switch (options.text(WEIGHT_ONLY_FORM)) {
            case "dequantize-linear" -> Writer.WeightForm.DEQUANTIZE_LINEAR;
            case "cast-mul" -> Writer.WeightForm.CAST_MUL;
            default -> context.profile().quantizedFormat() == io.modelpress.spi.QuantizedFormat.QDQ
                    && !context.profile().executionProvider().equalsIgnoreCase("cpu")
                    ? Writer.WeightForm.DEQUANTIZE_LINEAR : Writer.WeightForm.CAST_MUL;
        };
    }

    private static List<Map<String, TensorData>> run(PluginContext context, OnnxModel model,
            List<Map<String, TensorData>> samples) {
        List<Map<String, TensorData>> outputs = new ArrayList<>();
        try (ModelRunner runner = context.runner(model)) {
            for (Map<String, TensorData> sample : samples) {
                outputs.add(runner.run(sample));
            }
        }
        return outputs;
    }
}

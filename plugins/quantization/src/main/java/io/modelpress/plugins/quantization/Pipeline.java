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
import java.util.HashMap;
import java.util.HashSet;
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

    /**
     * An equivalent float model to quantize instead of the input (e.g. smoothed), with what it changed.
     * With a fidelity target, {@code judge} tells how close a prepared model comes once quantized.
     */
    interface Preparation {
        Preparation NONE = (model, selection, calibration, judge) -> new Prepared(model, List.of(), Map.of());

        Prepared prepare(OnnxModel model, Selection selection, Optional<CalibrationData> calibration,
                Optional<Judge> judge) throws PluginException;
    }

    /** The fidelity target and the output fidelity of a float model once all its chosen weights are quantized. */
    interface Judge {
        double target();

        double fidelity(OnnxModel prepared) throws PluginException;
    }

    record Prepared(OnnxModel model, List<String> changes, Map<String, Double> figures) {
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
                                + "groups), cast-mul (ONNX Runtime CPU folds it at load: fp32 speed; a table only Gathers "
                                + "read is dequantized after the lookup and stays int8 in memory), auto: by the profile"),
                OptionSpec.number(FIDELITY_TARGET, 0, 0, 1, "automatic mixed precision: keep the most sensitive layers float "
                        + "until the output cosine on calibration data reaches this (0: off)"));
    }

    static PluginResult run(OnnxModel model, PluginOptions options, PluginContext context, boolean symmetric,
            SchemeFactory factory) throws PluginException {
        return run(model, options, context, symmetric, factory, Preparation.NONE);
    }

    static PluginResult run(OnnxModel model, PluginOptions options, PluginContext context, boolean symmetric,
            SchemeFactory factory, Preparation preparation) throws PluginException {
        context.progress(0, "checking the model");
        Optional<PluginResult> nothing = nothingToDo(model);
        if (nothing.isPresent()) {
            return nothing.get();
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
        boolean perChannel = options.flag(PER_CHANNEL);
        Writer.WeightForm form = weightForm(options, context);
        Optional<Measure> measure = target > 0 ? Optional.of(Measure.of(context, model, calibration.get()))
                : Optional.empty();
        Selection chosen = selection;
        Optional<Judge> judge = measure.map(m -> new Judge() {
            @Override
            public double target() {
                return target;
            }

            @Override
            public double fidelity(OnnxModel prepared) throws PluginException {
                List<Weight> weights = reselect(prepared, chosen, options).candidates();
                Writer writer = new Writer(prepared, perChannel, symmetric, form, new HashMap<>());
                factory.create(prepared, weights).write(writer, weights, List.of());
                return m.fidelity(context, prepared.withProto(writer.edit.build()));
            }
        });
        Prepared prepared = preparation.prepare(model, selection, calibration, judge);
        OnnxModel work = prepared.model();
        if (work != model) {
            selection = reselect(work, selection, options);
        }
        Scheme scheme = factory.create(work, selection.candidates());
        Mix mix = new Mix(selection.candidates(), List.of());
        Map<String, Double> autoFigures = new LinkedHashMap<>();
        Map<String, Object> memo = new HashMap<>();
        if (target > 0) {
            mix = automatic(work, scheme, selection.candidates(), new Writer(work, perChannel, symmetric, form, memo),
                    target, measure.get(), context, result, autoFigures);
        }
        int quantizedCount = mix.full().size() + mix.weightOnly().size();
        context.progress(0.9, "writing " + quantizedCount + " quantized weights");
        Writer writer = new Writer(work, perChannel, symmetric, form, memo);
        scheme.write(writer, mix.full(), mix.weightOnly());
        // The layers the target kept in float compute in float from fp16 storage, unless that costs the target.
        long halved = target > 0 ? kept(selection.candidates(), mix).stream().filter(writer::halfInPlace).count() : 0;
        OnnxModel output = work.withProto(writer.edit.build());
        if (halved > 0 && measure.get().fidelity(context, output) < target) {
            writer = new Writer(work, perChannel, symmetric, form, memo);
            scheme.write(writer, mix.full(), mix.weightOnly());
            output = work.withProto(writer.edit.build());
        }
        PluginResult.Builder built = PluginResult.builder(output);
        result.build().skipped().forEach(s -> built.skipped(s.part(), s.reason()));
        prepared.changes().forEach(built::change);
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
        prepared.figures().forEach(built::figure);
        autoFigures.forEach(built::figure);
        context.progress(1, "done");
        return built.build();
    }

    /**
     * The weights of {@code selection} on a prepared model, whose node positions moved (what the
     * preparation added, such as smoothing factors, stays exact and is not chosen).
     */
    private static Selection reselect(OnnxModel prepared, Selection selection, PluginOptions options)
            throws PluginException {
        Set<Weight.Ref> chosen = new HashSet<>();
        selection.candidates().forEach(w -> chosen.add(w.ref()));
        Selection again = Selection.of(prepared, options.intValue(MIN_ELEMENTS), Set.copyOf(options.list(EXCLUDE_NODES)),
                Set.copyOf(options.list(EXCLUDE_OPS)));
        return new Selection(again.candidates().stream().filter(w -> chosen.contains(w.ref())).toList(),
                selection.skipped());
    }

    /** The original model's outputs on the first calibration samples, against which quantized models are measured. */
    private record Measure(List<Map<String, TensorData>> samples, List<Map<String, TensorData>> reference) {

        static Measure of(PluginContext context, OnnxModel original, CalibrationData data) {
            List<Map<String, TensorData>> samples = new ArrayList<>();
            for (int s = 0; s < Math.min(SENSITIVITY_SAMPLES, data.size()); s++) {
                samples.add(data.sample(s));
            }
            return new Measure(samples, Pipeline.run(context, original, samples));
        }

        double fidelity(PluginContext context, OnnxModel quantized) {
            context.checkCancelled();
            return Fidelities.worstMeanCosine(reference, Pipeline.run(context, quantized, samples));
        }
    }

    /** The model as it is, saying so, when it is quantized already: nothing is quantized twice. */
    static Optional<PluginResult> nothingToDo(OnnxModel model) {
        return AlreadyQuantized.evidence(model).map(evidence -> PluginResult.builder(model)
                .change("nothing to do: the model is quantized already (" + evidence + "); it is left as it is")
                .figure("weights-quantized", 0)
                .build());
    }

    /** Which weights take the plugin's own form and which int8 weight-only; the rest stay float. */
    record Mix(List<Weight> full, List<Weight> weightOnly) {
    }

    /**
     * The mix that reaches {@code target} while keeping as much as possible quantized. Layers are
     * ranked by the output cosine each gives when it alone is quantized; the most sensitive step
     * down first from integer compute to int8 weight-only (float compute; only layers with integer
     * compute have this step) and, only if that is not enough, to float. When layers had to stay
     * float, the others get their integer compute back if the target still holds. Quantized
     * tensors are computed once ({@code probe}'s memo) however often a layer is tried.
     */
    private static Mix automatic(OnnxModel model, Scheme scheme, List<Weight> candidates, Writer probe, double target,
            Measure measure, PluginContext context, PluginResult.Builder result, Map<String, Double> figures)
            throws PluginException {
        Evaluator evaluate = (full, weightOnly) -> {
            Writer writer = probe.another();
            scheme.write(writer, full, weightOnly);
            return measure.fidelity(context, model.withProto(writer.edit.build()));
        };
        double all = evaluate.fidelity(candidates, List.of());
        figures.put("fidelity-all-quantized", all);
        Mix mix = new Mix(candidates, List.of());
        double fidelity = all;
        List<Weight> integer = new ArrayList<>();
        List<Weight> others = new ArrayList<>();
        for (Weight weight : candidates) {
            (scheme.integerCompute(probe, weight) ? integer : others).add(weight);
        }
        if (all < target && !integer.isEmpty()) {
            // first step: the most sensitive integer layers keep int8 weights but compute in float
            List<Weight> ranked = rank(integer, w -> evaluate.fidelity(List.of(w), List.of()), context, "integer compute");
            int k = fewest(ranked.size(), n -> evaluate.fidelity(with(others, ranked.subList(n, ranked.size())),
                    ranked.subList(0, n)), target);
            mix = new Mix(with(others, ranked.subList(k, ranked.size())), ranked.subList(0, k));
            fidelity = evaluate.fidelity(mix.full(), mix.weightOnly());
        }
        List<Weight> kept = List.of();
        if (fidelity < target) {
            // int8 weights alone cost too much somewhere: the most sensitive of them stay float
            // (from here every weight is int8 weight-only; those without integer compute keep their own form, the same values)
            List<Weight> ranked = rank(candidates, w -> evaluate.fidelity(List.of(), List.of(w)), context, "int8 weights");
            Trial trial = n -> {
                Mix rest = withoutFirst(ranked, n, integer);
                return evaluate.fidelity(rest.full(), rest.weightOnly());
            };
            int k = fewest(ranked.size(), trial, target);
            kept = ranked.subList(0, k);
            mix = withoutFirst(ranked, k, integer);
            fidelity = evaluate.fidelity(mix.full(), mix.weightOnly());
            if (!mix.weightOnly().isEmpty()) {
                // with the worst layers in float, the others may take integer compute again
                List<Weight> rest = with(mix.full(), mix.weightOnly());
                double restored = evaluate.fidelity(rest, List.of());
                if (restored >= target) {
                    mix = new Mix(rest, List.of());
                    fidelity = restored;
                }
            }
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

    /** The candidates a mix leaves in float. */
    private static List<Weight> kept(List<Weight> candidates, Mix mix) {
        return candidates.stream().filter(w -> !mix.full().contains(w) && !mix.weightOnly().contains(w)).toList();
    }

    /** All but the first {@code n} of {@code ranked}: integer-compute weights demoted to weight-only, the others as they are. */
    private static Mix withoutFirst(List<Weight> ranked, int n, List<Weight> integer) {
        List<Weight> full = new ArrayList<>();
        List<Weight> weightOnly = new ArrayList<>();
        for (Weight weight : ranked.subList(n, ranked.size())) {
            (integer.contains(weight) ? weightOnly : full).add(weight);
        }
        return new Mix(full, weightOnly);
    }

    private static List<Weight> with(List<Weight> base, List<Weight> more) {
        List<Weight> all = new ArrayList<>(base);
        all.addAll(more);
        return all;
    }

    private interface Evaluator {
        double fidelity(List<Weight> full, List<Weight> weightOnly) throws PluginException;
    }

    private interface Score {
        double of(Weight weight) throws PluginException;
    }

    interface Trial {
        double fidelity(int n) throws PluginException;
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

    /**
     * The smallest n in 1..count whose trial reaches {@code target} (count when none does): doubling,
     * then bisection, so a trial that grows with n is called about 2 log2(count) times.
     */
    static int fewest(int count, Trial trial, double target) throws PluginException {
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

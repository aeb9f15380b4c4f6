package io.modelpress.plugins.fp16;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import io.modelpress.model.DataType;
import io.modelpress.model.Graphs;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Weight;
import io.modelpress.model.WeightIndex;
import io.modelpress.plugins.fp16.ConversionPlan.Mode;
import io.modelpress.plugins.fp16.ModelAnalysis.GraphInfo;
import io.modelpress.plugins.fp16.ModelAnalysis.NodeInfo;
import io.modelpress.plugins.fp16.ModelAnalysis.ValueKey;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.OptionSpec;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.PluginSpi;
import io.modelpress.spi.Precision;
import io.modelpress.spi.Technique;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Half-precision weights and compute: float32 weights become float16 (or bfloat16) and every
 * operator that has half kernels computes in half, in every graph (If branches and Loop bodies
 * included), with Constant-node weights converted where they are. Float32 stays where half would
 * be wrong or cannot run: operators without half kernels in ONNX Runtime, weights beyond
 * float16's range (and the operators reading them), computed values beyond it when calibration
 * data shows them (their producers and readers), static computations of shapes and indices,
 * Resize scales and the like, loop-carried values, and anything the user excludes. Casts join the
 * two worlds; model inputs and outputs keep their types by default.
 *
 * <p>Refused: weights holding NaN or infinity (named), and a model whose weights are half or
 * quantized already, so that nothing is converted twice.
 *
 * <p>float16 is for GPUs (the {@code nvidia-fp16} profile): ONNX Runtime's CPU provider runs such
 * a model by casting around most nodes and is slower than float32 there. bfloat16 needs ONNX
 * Runtime's CUDA provider on Ampere or later and opset 13 or newer; the CPU provider cannot run it.
 *
 * <p>The plugin declares {@link Precision#FP16} as its requirement, so the default
 * {@link #serves} asks the profile for fp16; with {@code type=bf16}, {@link #apply} checks that the
 * profile runs bf16 (the SPI has no per-option precisions).
 */
public final class Fp16Plugin implements CompressionPlugin {

    static final String TYPE = "type";
    static final String KEEP_IO_TYPES = "keep-io-types";
    static final String EXCLUDE = "exclude";

    /** Weight types of a model that was made half or quantized already. */
    private static final Set<DataType> REDUCED = Set.of(DataType.FLOAT16, DataType.BFLOAT16, DataType.INT8,
            DataType.UINT8, DataType.INT4, DataType.UINT4);

    @Override
    public String id() {
        return "fp16";
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
        return Technique.QUANTIZATION;
    }

    @Override
    public String description() {
        return "Half-precision weights and compute (float16 or bfloat16), float32 kept where half cannot run or would overflow";
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(
                OptionSpec.choice(TYPE, "fp16", List.of("fp16", "bf16"),
                        "half type: fp16 (IEEE half, GPUs with tensor cores) or bf16 (Ampere or later, opset 13+)"),
                OptionSpec.flag(KEEP_IO_TYPES, true,
                        "keep float32 model inputs and outputs, with Casts at the edges of the graph"),
                OptionSpec.list(EXCLUDE, "", List.of(),
                        "node names or operator types (e.g. Softmax,/encoder/LayerNorm) that keep float32"));
    }

    @Override
    public Set<Precision> requiredPrecisions() {
        return Set.of(Precision.FP16);
    }

    @Override
    public PluginResult apply(OnnxModel model, PluginOptions options, PluginContext context) throws PluginException {
        HalfType type = HalfType.ofOption(options.text(TYPE));
        if (type == HalfType.BF16 && !context.profile().runs(Precision.BF16)) {
            throw new PluginException("profile '" + context.profile().id() + "' does not run bf16; use type=fp16 "
                    + "or a profile that lists bf16");
        }
        context.checkCancelled();
        context.progress(0.0, "analysing the model");
        ModelProto proto = model.proto();
        WeightIndex weights = model.weights();
        refuseReducedModels(weights);
        long opset = defaultOpset(proto);
        Set<String> exclude = new LinkedHashSet<>(options.list(EXCLUDE));
        checkExclusions(proto, exclude);

        WeightConverter.Ranges ranges = WeightConverter.scan(weights, type, context, 0.05, 0.25);
        if (ranges.nonFinite().isPresent()) {
            WeightConverter.NonFinite bad = ranges.nonFinite().get();
            throw new PluginException("weight '" + bad.weight() + "' holds " + bad.value() + " at index "
                    + bad.index() + "; a model with NaN or infinite weights is refused (fix the model)");
        }
        Map<Weight.Ref, Float> overflowing = ranges.overflowing();
        ModelAnalysis analysis = ModelAnalysis.of(proto, weights);
        ActivationRanges.Peaks peaks = ActivationRanges.measure(model, analysis, type, context);
        ConversionPlan plan = ConversionPlan.of(analysis,
                new ConversionPlan.Settings(type, opset, options.flag(KEEP_IO_TYPES), exclude), overflowing,
                peaks.overflowing());
        List<Weight.Ref> toConvert = new ArrayList<>();
        for (Weight weight : weights.all()) {
            if (weight.type() == DataType.FLOAT && plan.becomesHalf(new ValueKey(weight.ref().graph(), weight.name()))) {
                toConvert.add(weight.ref());
            }
        }
        Counts counts = Counts.of(analysis, plan);
        if (counts.half == 0 && toConvert.isEmpty()) {
            throw new PluginException(nothingConverted(plan, type));
        }

        WeightConverter.Converted converted = WeightConverter.convert(weights, toConvert, type, context, 0.3, 0.85);
        context.progress(0.85, "placing Casts and updating types");
        ModelProto halved = WeightIndex.replace(proto, converted.tensors());
        GraphRewriter rewriter = new GraphRewriter(analysis, plan);
        halved = rewriter.rewrite(halved);
        context.checkCancelled();
        OnnxModel result = model.withProto(halved);
        long floatWeightBytes = weights.all().stream().filter(w -> w.type() == DataType.FLOAT).mapToLong(Weight::bytes).sum();
        if (result.serializedSize() >= model.serializedSize() && converted.bytesBefore() * 10 < floatWeightBytes) {
            // Casts cost more than the few converted weights saved: a larger model that computes mostly in float32
            throw new PluginException(String.format(Locale.ROOT, "nothing gained: the %s model would not be smaller "
                    + "(%,d → %,d bytes); only %,d of %,d bytes of float32 weights are read by operators that can "
                    + "compute in %s", type.label(), model.serializedSize(), result.serializedSize(),
                    converted.bytesBefore(), floatWeightBytes, type.label()));
        }
        context.progress(1.0, "done");
        return report(model, result, type, options.flag(KEEP_IO_TYPES), plan, counts, converted, rewriter,
                overflowing, peaks, weights, toConvert.size());
    }

    /**
     * A model whose weights are mostly half already was converted before (float32 left only where
     * half would overflow or has no kernel): converting it again would turn its float32 Casts into
     * half ones and add Casts back. A model whose weights are mostly 8- or 4-bit integers was
     * quantized: its float32 weights are scales, which stay float32.
     */
    private static void refuseReducedModels(WeightIndex weights) throws PluginException {
        long floats = 0;
        long reduced = 0;
        Set<String> labels = new java.util.TreeSet<>();
        for (Weight weight : weights.all()) {
            if (weight.type() == DataType.FLOAT) {
                floats += weight.elements();
            } else if (REDUCED.contains(weight.type()) && !weight.uses().isEmpty()) {
                reduced += weight.elements();
                labels.add(weight.type().label());
            }
        }
        if (reduced > 0 && reduced >= floats) {
            throw new PluginException(String.format(Locale.ROOT, "nothing to do: the model's weights are already "
                    + "%s (%,d of %,d weight values); it is never converted twice",
                    String.join(" and ", labels), reduced, reduced + floats));
        }
    }

    private static long defaultOpset(ModelProto proto) throws PluginException {
        for (OperatorSetIdProto opset : proto.getOpsetImportList()) {
            if (opset.getDomain().isEmpty() || opset.getDomain().equals("ai.onnx")) {
                return opset.getVersion();
            }
        }
        throw new PluginException("the model imports no opset of the default ONNX domain");
    }

    private static void checkExclusions(ModelProto proto, Set<String> exclude) throws PluginException {
        if (exclude.isEmpty()) {
            return;
        }
        Set<String> known = new HashSet<>();
        Graphs.forEach(proto, (path, graph) -> graph.getNodeList().forEach(node -> {
            known.add(node.getName());
            known.add(node.getOpType());
        }));
        for (String item : exclude) {
            if (!known.contains(item)) {
                throw new PluginException("option 'exclude': '" + item + "' names no node or operator type of the model");
            }
        }
    }

    private static String nothingConverted(ConversionPlan plan, HalfType type) {
        if (plan.reasons().isEmpty()) {
            return "nothing to do: the model computes nothing in float32";
        }
        Map<String, Long> byReason = plan.reasons().values().stream()
                .collect(Collectors.groupingBy(reason -> reason, TreeMap::new, Collectors.counting()));
        String top = byReason.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse("");
        return "nothing converted: every float32 operator keeps float32 for " + type.label() + " (most often: " + top + ")";
    }

    /** Nodes by what the plan made of them. */
    private record Counts(int half, int kept) {
        static Counts of(ModelAnalysis analysis, ConversionPlan plan) {
            int half = 0;
            int kept = 0;
            for (GraphInfo graph : analysis.graphs()) {
                for (NodeInfo node : graph.nodes()) {
                    Mode mode = plan.mode(node);
                    half += mode == Mode.HALF ? 1 : 0;
                    kept += mode == Mode.FLOAT ? 1 : 0;
                }
            }
            return new Counts(half, kept);
        }
    }

    private static PluginResult report(OnnxModel model, OnnxModel result, HalfType type, boolean keepIo,
            ConversionPlan plan, Counts counts, WeightConverter.Converted converted, GraphRewriter rewriter,
            Map<Weight.Ref, Float> overflowing, ActivationRanges.Peaks peaks, WeightIndex weights,
            int convertedWeights) {
        long bytesBefore = model.serializedSize();
        long bytesAfter = result.serializedSize();
        long floatWeights = weights.all().stream().filter(w -> w.type() == DataType.FLOAT).count();
        PluginResult.Builder report = PluginResult.builder(result);
        report.change(String.format(Locale.ROOT, "converted %d of %d float32 weights to %s: %,d → %,d bytes",
                convertedWeights, floatWeights, type.label(), converted.bytesBefore(), converted.bytesAfter()));
        report.change(String.format(Locale.ROOT, "%d of %d operators that handle float values compute in %s; "
                + "%d keep float32 (see skipped)", counts.half(), counts.half() + counts.kept(), type.label(), counts.kept()));
        report.change(String.format(Locale.ROOT, "inserted %d Cast nodes where float32 and %s values meet; %s",
                rewriter.castsInserted(), type.label(), keepIo ? "model inputs and outputs keep their types"
                        : "float32 model inputs and outputs are now " + type.label()));
        if (bytesAfter >= bytesBefore) {
            report.change(String.format(Locale.ROOT, "the model did not shrink (%,d → %,d bytes): the Casts cost "
                    + "more than the converted weights saved", bytesBefore, bytesAfter));
        }
        if (rewriter.valueInfosUpdated() > 0) {
            report.change("updated " + rewriter.valueInfosUpdated() + " value_info entries to " + type.label());
        }
        if (converted.flushedToZero() > 0) {
            report.change(String.format(Locale.ROOT, "%,d non-zero weight values are below %s's smallest "
                    + "subnormal and became zero", converted.flushedToZero(), type.label()));
        }
        if (type == HalfType.FP16) {
            report.change(peaks.samples() == 0 ? "activation ranges not measured (no calibration data): values "
                    + "computed beyond float16's range would become infinity; pass calibration data to keep them float32"
                    : String.format(Locale.ROOT, "measured %d computed values of the main graph on %d calibration "
                    + "samples: %d exceed float16's range and keep float32 with their producers and readers",
                    peaks.values(), peaks.samples(), peaks.overflowing().size()));
        }
        if (type == HalfType.BF16) {
            report.change("bfloat16 runs on ONNX Runtime's CUDA provider (Ampere or later); its CPU provider "
                    + "has almost no bfloat16 kernels and cannot run this model");
        }
        overflowing.forEach((ref, magnitude) -> report.skipped("weight '" + ref + "'", String.format(Locale.ROOT,
                "values reach %.4g, beyond %s's largest finite value %.0f: kept float32", magnitude, type.label(),
                type.maxFinite())));
        skippedByReason(plan).forEach(report::skipped);
        return report
                .figure("bytes-before", bytesBefore)
                .figure("bytes-after", bytesAfter)
                .figure("size-ratio", bytesAfter == 0 ? 0 : (double) bytesBefore / bytesAfter)
                .figure("weights-converted", convertedWeights)
                .figure("weights-kept-float32", floatWeights - convertedWeights)
                .figure("weight-bytes-before", converted.bytesBefore())
                .figure("weight-bytes-after", converted.bytesAfter())
                .figure("nodes-half", counts.half())
                .figure("nodes-float32", counts.kept())
                .figure("casts-inserted", rewriter.castsInserted())
                .figure("values-flushed-to-zero", converted.flushedToZero())
                .build();
    }

    /** Kept nodes grouped by reason and operator type, naming a few of each. */
    private static Map<String, String> skippedByReason(ConversionPlan plan) {
        Map<String, Map<String, List<String>>> groups = new TreeMap<>();
        plan.reasons().forEach((node, reason) -> groups.computeIfAbsent(reason, r -> new TreeMap<>())
                .computeIfAbsent(node.node.getOpType(), op -> new ArrayList<>()).add(node.describe()));
        Map<String, String> parts = new java.util.LinkedHashMap<>();
        groups.forEach((reason, byOp) -> byOp.forEach((op, nodes) -> {
            String shown = nodes.stream().limit(4).collect(Collectors.joining(", "));
            String part = nodes.size() + " × " + op + ": " + shown + (nodes.size() > 4 ? ", and " + (nodes.size() - 4) + " more" : "");
            parts.put(part, reason);
        }));
        return parts;
    }
}

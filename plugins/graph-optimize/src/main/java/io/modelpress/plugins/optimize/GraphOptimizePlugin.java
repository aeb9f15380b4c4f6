package io.modelpress.plugins.optimize;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import io.modelpress.model.DataType;
import io.modelpress.model.Graphs;
import io.modelpress.model.ModelException;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.SaveOptions;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.OptionSpec;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.PluginSpi;
import io.modelpress.spi.Technique;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * ONNX Runtime's offline graph optimiser, run at a level whose output stays portable: constant
 * folding, redundant-node elimination and the fusions that rewrite standard operators into
 * standard operators (BatchNormalization, Add and Mul folded into Conv, MatMul+Add into Gemm).
 * The model is written to the step's temp folder, ONNX Runtime loads it with
 * {@code setOptimizedModelFilePath} and writes the optimised graph, and that file is read back.
 *
 * <p>Levels: {@code basic} (the default) writes only operators of the domains the model already
 * uses, which this plugin checks. {@code extended} adds ONNX Runtime's own fusions (FusedConv,
 * FusedGemm, QuickGelu, LayerNormalization below opset 17, ...) in the {@code com.microsoft} domain
 * and as ONNX Runtime-internal schemas: the result runs only in ONNX Runtime, so choose it only
 * for targets that run ONNX Runtime. The highest level (ALL, with NCHWc layout transforms) is never
 * offered: it writes operators for the CPU it ran on, which would make a shared artifact
 * hardware-specific.
 *
 * <p>Two things the optimiser does for the machine it runs on are undone or refused here. It folds
 * a weight that several subgraphs read into each of them; identical copies are stored once again
 * in the main graph ({@link SharedWeights}). And its CPU provider wraps float16 operators it has
 * no kernel for in Casts to float32, which the saved graph would keep: half-precision models are
 * refused (optimise before converting to fp16), and so is any result with Casts the model did not
 * have.
 *
 * <p>Class path: this plugin uses ONNX Runtime's Java API, which the host has on its class path
 * (the module depends on it with scope {@code provided}). That works because it is a built-in
 * plugin, loaded by the host's class loader; a plugin loaded from a jar in the plugins folder sees
 * only the SPI packages ({@link PluginSpi#EXPORTED_PACKAGES}) and would have to bring its own copy.
 */
public final class GraphOptimizePlugin implements CompressionPlugin {

    static final String LEVEL = "level";
    static final String BASIC = "basic";
    static final String EXTENDED = "extended";

    @Override
    public String id() {
        return "graph-optimize";
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
        return Technique.GRAPH_OPTIMIZATION;
    }

    @Override
    public String description() {
        return "ONNX Runtime's offline graph optimiser (constant folding, BatchNorm folding, fusions) at a portable level";
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(OptionSpec.choice(LEVEL, BASIC, List.of(BASIC, EXTENDED),
                "basic: folding and fusions into standard ONNX operators, runs anywhere; extended: also "
                        + "ONNX Runtime's com.microsoft fused operators, which only ONNX Runtime runs"));
    }

    @Override
    public PluginResult apply(OnnxModel model, PluginOptions options, PluginContext context) throws PluginException {
        boolean extended = options.text(LEVEL).equals(EXTENDED);
        context.checkCancelled();
        refuseHalfPrecision(model);
        refuseNonFiniteWeights(model);
        Path work = createWorkFolder(context);
        try {
            context.progress(0.05, "writing the model for ONNX Runtime");
            Path input = work.resolve("input.onnx");
            boolean external = needsExternalData(model);
            model.save(input, external ? SaveOptions.external("input.onnx.data") : SaveOptions.inline());
            context.checkCancelled();

            context.progress(0.2, "ONNX Runtime optimising at level " + options.text(LEVEL));
            Path output = work.resolve("optimized.onnx");
            runOptimizer(input, output, extended, external);
            context.checkCancelled();

            context.progress(0.8, "reading the optimised model");
            ModelProto optimized = readBack(output);
            return report(model, optimized, extended);
        } finally {
            deleteQuietly(work);
        }
    }

    /**
     * ONNX Runtime optimises for the provider it loads the model on, here the CPU. Its CPU provider
     * has no float16 or bfloat16 kernels for most operators, so it wraps them in Casts to float32
     * and inlines the function bodies of those it lacks; the saved graph would keep those Casts and
     * compute in float32 on the GPU it was made half for.
     */
    private static void refuseHalfPrecision(OnnxModel model) throws PluginException {
        long half = model.weights().all().stream().filter(w -> isHalf(w.type())).count();
        long[] casts = new long[1];
        Graphs.forEach(model.proto(), (path, graph) -> casts[0] += graph.getNodeList().stream()
                .filter(node -> node.getOpType().equals("Cast") && Nodes.attribute(node, "to")
                        .map(to -> to.getI() == DataType.FLOAT16.code() || to.getI() == DataType.BFLOAT16.code())
                        .orElse(false))
                .count());
        if (half > 0 || casts[0] > 0) {
            throw new PluginException(String.format(Locale.ROOT, "the model computes in half precision (half "
                    + "weights: %d, Casts to half: %d): ONNX Runtime's CPU optimiser would cast it back to float32 "
                    + "where its CPU lacks half kernels; run graph-optimize before fp16", half, casts[0]));
        }
    }

    private static boolean isHalf(DataType type) {
        return type == DataType.FLOAT16 || type == DataType.BFLOAT16;
    }

    /** Folding would spread NaN and infinity into every weight computed from them; such a model is broken. */
    private static void refuseNonFiniteWeights(OnnxModel model) throws PluginException {
        for (Weight weight : model.weights().all()) {
            if (weight.type() != DataType.FLOAT) {
                continue; // half weights were refused above; integers have no NaN
            }
            float[] values = Tensors.toFloats(model.weights().tensor(weight.ref()));
            int bad = Tensors.firstNonFinite(values);
            if (bad >= 0) {
                throw new PluginException("weight '" + weight.ref() + "' holds " + values[bad] + " at index " + bad
                        + ": fix the model; folding would spread it into other weights");
            }
        }
    }

    private static boolean needsExternalData(OnnxModel model) {
        // ONNX Runtime cannot write (or read) one protobuf file above 2 GiB; stay well below.
        return model.hadExternalData() || model.serializedSize() > SaveOptions.INLINE_LIMIT;
    }

    private static void runOptimizer(Path input, Path output, boolean extended, boolean external)
            throws PluginException {
        OrtEnvironment environment = OrtEnvironment.getEnvironment(); // the host's, made before plugins run
        try (OrtSession.SessionOptions session = new OrtSession.SessionOptions()) {
            session.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
            session.setOptimizationLevel(extended ? OrtSession.SessionOptions.OptLevel.EXTENDED_OPT
                    : OrtSession.SessionOptions.OptLevel.BASIC_OPT);
            session.setIntraOpNumThreads(1); // the session is only built, never run
            session.setOptimizedModelFilePath(output.toString());
            if (external) {
                session.addConfigEntry("session.optimized_model_external_initializers_file_name", "optimized.onnx.data");
                session.addConfigEntry("session.optimized_model_external_initializers_min_size_in_bytes", "1024");
            }
            try (OrtSession ignored = environment.createSession(input.toString(), session)) {
                // building the session runs the optimiser and writes the optimised model
            }
        } catch (OrtException e) {
            throw new PluginException("ONNX Runtime cannot optimise the model: " + firstLine(e.getMessage()), e);
        }
    }

    private static ModelProto readBack(Path output) throws PluginException {
        if (!Files.isRegularFile(output)) {
            throw new PluginException("ONNX Runtime wrote no optimised model");
        }
        try {
            return OnnxModel.load(output).proto();
        } catch (ModelException e) {
            throw new PluginException("the model ONNX Runtime wrote cannot be read: " + e.getMessage(), e);
        }
    }

    private PluginResult report(OnnxModel model, ModelProto written, boolean extended) throws PluginException {
        ModelProto original = model.proto();
        checkSignature(original, written);
        OpCounts before = OpCounts.of(original);
        OpCounts after = OpCounts.of(written);
        Set<String> newDomains = new TreeSet<>(after.domains());
        newDomains.removeAll(before.domains());
        if (!extended && !newDomains.isEmpty()) {
            throw new PluginException("ONNX Runtime wrote operators of domain(s) " + newDomains
                    + " the model did not use (" + after.opsOf(newDomains) + "); refusing a result that is not portable");
        }
        int castsBefore = before.byOp().getOrDefault("Cast", 0);
        int castsAfter = after.byOp().getOrDefault("Cast", 0);
        if (castsAfter > castsBefore) {
            // Casts the model did not have come from placing kernels for this CPU (half-precision fallbacks)
            throw new PluginException("ONNX Runtime added Casts (" + castsBefore + " → " + castsAfter + ") for "
                    + "types its CPU kernels lack; refusing a result tied to this CPU");
        }
        ModelProto proto = original.toBuilder()
                .setGraph(written.getGraph())
                .clearOpsetImport()
                .addAllOpsetImport(opsetImports(original, written, after.domains()))
                .build();
        SharedWeights.Hoisted hoisted = SharedWeights.hoist(model.withProto(proto));
        OnnxModel optimized = hoisted.model();
        long weightsBefore = model.weights().all().size();
        long weightsAfter = optimized.weights().all().size();
        if (before.equals(after) && weightsBefore == weightsAfter
                && model.weights().totalBytes() == optimized.weights().totalBytes()) {
            return PluginResult.builder(model)
                    .change("nothing changed: ONNX Runtime found nothing to fold, fuse or remove at level "
                            + (extended ? EXTENDED : BASIC))
                    .figure("nodes-before", before.total())
                    .figure("nodes-after", before.total())
                    .figure("bytes-before", model.serializedSize())
                    .figure("bytes-after", model.serializedSize())
                    .build();
        }
        PluginResult.Builder result = PluginResult.builder(optimized);
        before.differences(after).forEach(result::change);
        if (weightsBefore != weightsAfter) {
            result.change("weights: " + weightsBefore + " → " + weightsAfter
                    + " (Constant nodes become initializers; folded and fused weights are merged)");
        }
        long bytesBefore = model.serializedSize();
        long bytesAfter = optimized.serializedSize();
        if (hoisted.copiesRemoved() > 0) {
            result.change(String.format(Locale.ROOT, "stored %d identical weights once in the main graph instead of "
                    + "in each subgraph that constant folding copied them into (%,d bytes saved)",
                    hoisted.copiesRemoved(), hoisted.bytesSaved()));
        }
        if (bytesAfter > bytesBefore) {
            result.change(String.format(Locale.ROOT, "the model grew by %,d bytes (%.1f%%): constant folding "
                    + "materialised tensors that were computed at run time", bytesAfter - bytesBefore,
                    100.0 * (bytesAfter - bytesBefore) / bytesBefore));
        }
        if (!newDomains.isEmpty()) {
            result.change("wrote ONNX Runtime-only operators: " + after.opsOf(newDomains));
        }
        if (extended) {
            result.skipped("portability", "level extended: the result may hold ONNX Runtime contrib operators "
                    + "and internal schemas; other runtimes cannot load it");
        }
        return result
                .figure("nodes-before", before.total())
                .figure("nodes-after", after.total())
                .figure("weights-before", weightsBefore)
                .figure("weights-after", weightsAfter)
                .figure("bytes-before", bytesBefore)
                .figure("bytes-after", bytesAfter)
                .figure("shared-copies-removed", hoisted.copiesRemoved())
                .build();
    }

    /** The optimiser must never change what callers send and receive. */
    private static void checkSignature(ModelProto original, ModelProto written) throws PluginException {
        String inputsBefore = signature(original.getGraph().getInputList(), original);
        String inputsAfter = signature(written.getGraph().getInputList(), written);
        String outputsBefore = signature(original.getGraph().getOutputList(), original);
        String outputsAfter = signature(written.getGraph().getOutputList(), written);
        if (!inputsBefore.equals(inputsAfter)) {
            throw new PluginException("ONNX Runtime changed the model's inputs from " + inputsBefore + " to " + inputsAfter);
        }
        if (!outputsBefore.equals(outputsAfter)) {
            throw new PluginException("ONNX Runtime changed the model's outputs from " + outputsBefore + " to " + outputsAfter);
        }
    }

    /** Names and element types, leaving out inputs that are initializers (overridable constants ONNX Runtime may fold). */
    private static String signature(List<ValueInfoProto> values, ModelProto model) {
        Set<String> initializers = model.getGraph().getInitializerList().stream()
                .map(t -> t.getName()).collect(Collectors.toSet());
        return values.stream().filter(v -> !initializers.contains(v.getName()))
                .map(v -> v.getName() + ":" + v.getType().getTensorType().getElemType())
                .collect(Collectors.joining(", ", "[", "]"));
    }

    /**
     * The original opset imports plus those of domains the optimised graph newly uses. ONNX Runtime
     * writes every domain it knows; imports nobody uses would only confuse other tools.
     */
    private static List<OperatorSetIdProto> opsetImports(ModelProto original, ModelProto written, Set<String> usedDomains) {
        Set<String> known = new LinkedHashSet<>();
        List<OperatorSetIdProto> imports = new ArrayList<>();
        for (OperatorSetIdProto opset : original.getOpsetImportList()) {
            imports.add(opset);
            known.add(OpCounts.domain(opset.getDomain()));
        }
        for (OperatorSetIdProto opset : written.getOpsetImportList()) {
            String domain = OpCounts.domain(opset.getDomain());
            if (usedDomains.contains(domain) && known.add(domain)) {
                imports.add(opset);
            }
        }
        return imports;
    }

    private static Path createWorkFolder(PluginContext context) throws PluginException {
        try {
            Files.createDirectories(context.tempDir());
            return Files.createTempDirectory(context.tempDir(), "graph-optimize-");
        } catch (IOException e) {
            throw new PluginException("cannot create a work folder in " + context.tempDir() + ": " + e.getMessage(), e);
        }
    }

    private static void deleteQuietly(Path folder) {
        try (var files = Files.walk(folder)) {
            List<Path> all = new ArrayList<>(files.toList());
            Collections.reverse(all);
            for (Path path : all) {
                Files.deleteIfExists(path);
            }
        } catch (IOException ignored) {
            // the host removes the step's temp folder anyway
        }
    }

    static String firstLine(String message) {
        if (message == null) {
            return "no reason given";
        }
        String line = message.strip().lines().findFirst().orElse("no reason given");
        return line.length() > 300 ? line.substring(0, 300) + "..." : line;
    }

    /** Nodes by domain-qualified operator type, over every graph (subgraphs included). */
    record OpCounts(Map<String, Integer> byOp) {

        static OpCounts of(ModelProto model) {
            Map<String, Integer> counts = new java.util.TreeMap<>();
            Graphs.forEach(model, (path, graph) -> graph.getNodeList()
                    .forEach(node -> counts.merge(qualified(node.getDomain(), node.getOpType()), 1, Integer::sum)));
            return new OpCounts(Collections.unmodifiableMap(counts));
        }

        /** "" for the default domain, however it is spelt. */
        static String domain(String domain) {
            return domain.equals("ai.onnx") ? "" : domain;
        }

        static String qualified(String domain, String opType) {
            String d = domain(domain);
            return d.isEmpty() ? opType : d + ":" + opType;
        }

        int total() {
            return byOp.values().stream().mapToInt(Integer::intValue).sum();
        }

        Set<String> domains() {
            Set<String> domains = new TreeSet<>();
            byOp.keySet().forEach(op -> domains.add(op.contains(":") ? op.substring(0, op.lastIndexOf(':')) : ""));
            return domains;
        }

        String opsOf(Set<String> domains) {
            return byOp.entrySet().stream()
                    .filter(e -> e.getKey().contains(":") && domains.contains(e.getKey().substring(0, e.getKey().lastIndexOf(':'))))
                    .map(e -> e.getKey() + " ×" + e.getValue())
                    .collect(Collectors.joining(", "));
        }

        /** One line per operator type whose count changed, e.g. "BatchNormalization nodes: 35 → 0". */
        List<String> differences(OpCounts after) {
            Set<String> ops = new TreeSet<>(byOp.keySet());
            ops.addAll(after.byOp.keySet());
            List<String> lines = new ArrayList<>();
            for (String op : ops) {
                int was = byOp.getOrDefault(op, 0);
                int now = after.byOp.getOrDefault(op, 0);
                if (was != now) {
                    lines.add(op + " nodes: " + was + " → " + now + hint(op, was, now));
                }
            }
            lines.add("nodes in all graphs: " + total() + " → " + after.total());
            return lines;
        }

        private static String hint(String op, int was, int now) {
            if (op.equals("Constant") && now < was) {
                return " (became initializers or were folded)";
            }
            if (op.equals("BatchNormalization") && now < was) {
                return " (folded into the preceding Conv)";
            }
            return now > was ? " (fused)" : "";
        }
    }
}

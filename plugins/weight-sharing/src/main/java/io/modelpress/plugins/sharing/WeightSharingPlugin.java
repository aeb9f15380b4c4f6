package io.modelpress.plugins.sharing;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import io.modelpress.model.DataType;
import io.modelpress.model.GraphPath;
import io.modelpress.model.Graphs;
import io.modelpress.model.HalfFloats;
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
import io.modelpress.spi.ProgressCounter;
import io.modelpress.spi.Technique;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.DoubleUnaryOperator;
import java.util.stream.Collectors;

/**
 * Weight sharing: the values of each MatMul, Gemm and Conv weight are clustered (1-D k-means,
 * k-means++ seeding) into 2^bits shared values, and the weight is stored as small integer indices
 * plus the codebook, decoded in the graph by Cast and Gather (see {@link CodebookWriter}). The
 * model computes in its original precision; what shrinks is the stored artifact.
 *
 * <p>After magnitude pruning, a layer's zeros stay exactly 0 (see {@link ZeroKeepingKMeans}) where
 * they are at least {@code keep-zeros} of its weights. The default, 1%, tells pruned layers from
 * dense ones: pruning at any useful sparsity leaves far more, while a trained dense weight rarely
 * holds an exact zero (MiniLM-L6: 3 in all its weights of 1,024 values or more), and a few stray
 * zeros are not worth one of the 2^bits entries: they decode like any small weight. A layer whose indices, codebook and
 * decoding nodes would not be smaller than its float values is left as it is, and reported skipped.
 */
public final class WeightSharingPlugin implements CompressionPlugin {

    static final String BITS = "bits";
    static final String SEED = "seed";
    static final String ITERATIONS = "iterations";
    static final String TOLERANCE = "tolerance";
    static final String MIN_ELEMENTS = "min-elements";
    static final String LAYERS = "layers";
    static final String EXCLUDE = "exclude";
    static final String PACK = "pack";
    static final String KEEP_ZEROS = "keep-zeros";

    private static final int LISTED = 10;

    @Override
    public String id() {
        return "weight-sharing";
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
        return Technique.WEIGHT_SHARING;
    }

    @Override
    public String description() {
        return "Clusters each MatMul, Gemm and Conv weight into 2^bits shared values (k-means), stored as uint8 indices"
                + " and a codebook";
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(
                OptionSpec.integer(BITS, 4, 2, 8, "index bits: each layer shares at most 2^bits values"),
                OptionSpec.integer(SEED, 0, 0, Integer.MAX_VALUE, "seed of the k-means++ initialisation; the same"
                        + " seed gives the same output bytes"),
                OptionSpec.integer(ITERATIONS, 100, 1, 10_000, "most Lloyd iterations per layer"),
                OptionSpec.number(TOLERANCE, 1e-6, 0, 1, "stop once no shared value moves more than this fraction"
                        + " of the layer's value range"),
                OptionSpec.integer(MIN_ELEMENTS, 1024, 1, Integer.MAX_VALUE, "smallest weight, in elements, worth"
                        + " clustering (weights named in 'layers' are clustered whatever their size)"),
                OptionSpec.list(LAYERS, "", List.of(), "weights or nodes to cluster; empty = every layer weight of"
                        + " at least min-elements"),
                OptionSpec.list(EXCLUDE, "", List.of(), "weight names, node names or operator types (MatMul, Gemm,"
                        + " Conv) to leave as they are"),
                OptionSpec.flag(PACK, true, "with 4 bits or fewer, store several indices per byte where that is"
                        + " smaller (decoded by one Gather from a table of value tuples)"),
                OptionSpec.number(KEEP_ZEROS, 0.01, 0, 1, "in a layer where at least this share of the weights is"
                        + " exactly 0 (pruned), 0.0 gets a codebook entry of its own and only the other weights are"
                        + " clustered, so pruned weights stay 0; 1 leaves zeros to k-means unless all are 0"));
    }

    @Override
    public PluginResult apply(OnnxModel model, PluginOptions options, PluginContext context) throws PluginException {
        int bits = options.intValue(BITS);
        int clusters = 1 << bits;
        long opset = defaultOpset(model.proto());
        if (opset < 6) {
            throw new PluginException("the model imports ONNX opset " + opset + "; weight sharing decodes with Cast-6"
                    + " and needs opset 6 or later");
        }
        context.progress(0, "finding MatMul, Gemm and Conv weights");
        List<PluginResult.Skipped> skipped = new ArrayList<>();
        List<SharedLayer> chosen = choose(model, options, clusters, skipped);
        if (chosen.isEmpty()) {
            checkSomeLayerHoldsTheClusters(model, bits);
        }
        context.checkCancelled();
        Clusterer clusterer = new Clusterer(model, bits, options.integer(SEED), options.intValue(ITERATIONS),
                options.number(TOLERANCE), options.number(KEEP_ZEROS), context);
        List<Clusterer.Outcome> outcomes = clusterer.clusterAll(chosen);
        context.checkCancelled();
        context.progress(0.9, "writing indices and codebooks");
        ValueNames names = ValueNames.of(model.proto());
        boolean pack = options.flag(PACK);
        List<CodebookWriter.Encoding> encodings = new ArrayList<>();
        List<Clusterer.Outcome> done = new ArrayList<>();
        for (Clusterer.Outcome outcome : outcomes) {
            if (outcome.result() == null) {
                skipped.add(new PluginResult.Skipped(outcome.layer().label(), outcome.skipReason()));
                continue;
            }
            CodebookWriter.Encoding encoding = CodebookWriter.encode(outcome.layer(), outcome.result(), bits, pack, names);
            String larger = notSmaller(model, encoding);
            if (larger != null) {
                skipped.add(new PluginResult.Skipped(outcome.layer().label(), larger));
            } else {
                encodings.add(encoding);
                done.add(outcome);
            }
        }
        OnnxModel shared = model.withProto(CodebookWriter.apply(model.proto(), encodings));
        context.progress(1, "done");
        return report(model, shared, bits, done, encodings, skipped);
    }

    /**
     * Why the encoding does not pay, or null when it does: on a small weight the codebook and the
     * decoding nodes can take more room in the model than the float values they replace.
     */
    private static String notSmaller(OnnxModel model, CodebookWriter.Encoding encoding) {
        Weight weight = encoding.layer().weight();
        long before = CodebookWriter.storedSize(model.weights().tensor(weight.ref()), weight.storage());
        long after = CodebookWriter.storedSize(encoding);
        if (after < before) {
            return null;
        }
        return String.format(Locale.ROOT, "indices and codebook would take %d bytes in the model with their decoding"
                + " nodes, not fewer than the %d of the %s weight", after, before, weight.type().label());
    }

    private static PluginResult report(OnnxModel model, OnnxModel shared, int bits, List<Clusterer.Outcome> done,
            List<CodebookWriter.Encoding> encodings, List<PluginResult.Skipped> skipped) {
        PluginResult.Builder result = PluginResult.builder(shared);
        long before = 0;
        long after = 0;
        long elements = 0;
        double squaredError = 0;
        long keptZeros = 0;
        int zeroEntries = 0;
        for (int i = 0; i < done.size(); i++) {
            Clusterer.Outcome outcome = done.get(i);
            CodebookWriter.Encoding encoding = encodings.get(i);
            KMeans1D.Result clustering = outcome.result();
            Weight weight = outcome.layer().weight();
            before += weight.bytes();
            after += encoding.bytes();
            elements += weight.elements();
            squaredError += clustering.mse() * weight.elements();
            keptZeros += outcome.keptZeros();
            zeroEntries += outcome.keptZeros() > 0 ? 1 : 0;
            double relative = clustering.meanSquare() == 0 ? 0 : clustering.mse() / clustering.meanSquare();
            result.change(String.format(Locale.ROOT,
                    "%s: %d clusters (%d used, %d bits%s%s), %d iterations, MSE %.3e (%.3f%% of the mean square),"
                            + " %d → %d bytes",
                    outcome.layer().label(), clustering.codebook().length, clustering.used(), bits,
                    encoding.perByte() > 1 ? ", " + encoding.perByte() + " indices per byte" : "",
                    outcome.keptZeros() > 0 ? String.format(Locale.ROOT, ", 0.0 kept for %d zeros (%.1f%%)",
                            outcome.keptZeros(), 100.0 * outcome.keptZeros() / weight.elements()) : "",
                    clustering.iterations(), clustering.mse(), 100 * relative, weight.bytes(), encoding.bytes()));
        }
        if (done.isEmpty()) {
            result.change("no weight clustered" + (skipped.isEmpty()
                    ? ": the model has no MatMul, Gemm or Conv weights" : "; see the skipped layers for why"));
        }
        skipped.forEach(skip -> result.skipped(skip.part(), skip.reason()));
        result.figure("layers-shared", done.size())
                .figure("layers-skipped", skipped.size())
                .figure("bits", bits)
                .figure("layers-zero-kept", zeroEntries)
                .figure("zeros-kept", keptZeros)
                .figure("weight-bytes-before", before)
                .figure("weight-bytes-after", after)
                .figure("model-bytes-before", model.serializedSize())
                .figure("model-bytes-after", shared.serializedSize());
        if (elements > 0) {
            result.figure("mean-squared-error", squaredError / elements);
        }
        return result.build();
    }

    /**
     * With 2^bits more than the values of every layer weight, no choice of layers could work: that
     * is a wrong option, not a model with nothing to do, so it fails naming the largest weight.
     */
    private static void checkSomeLayerHoldsTheClusters(OnnxModel model, int bits) throws PluginException {
        int clusters = 1 << bits;
        Optional<SharedLayer> largest = layers(model).stream()
                .filter(layer -> SharedLayer.isFloat(layer.weight().type()))
                .max(Comparator.comparingLong(layer -> layer.weight().elements()));
        if (largest.isPresent() && largest.get().weight().elements() < clusters) {
            throw new PluginException("2^" + bits + " = " + clusters + " clusters are more than the values of any"
                    + " layer weight (the largest, " + largest.get().label() + ", has "
                    + largest.get().weight().elements() + "); lower option '" + BITS + "'");
        }
    }

    /** The layers to cluster; the others go to {@code skipped} with the reason. */
    private static List<SharedLayer> choose(OnnxModel model, PluginOptions options, int clusters,
            List<PluginResult.Skipped> skipped) throws PluginException {
        List<SharedLayer> layers = layers(model);
        Set<String> named = new LinkedHashSet<>(options.list(LAYERS));
        Set<String> exclude = new LinkedHashSet<>(options.list(EXCLUDE));
        checkNames(model, layers, named, LAYERS, false);
        checkNames(model, layers, exclude, EXCLUDE, true);
        Map<GraphPath, GraphProto> graphs = new HashMap<>();
        Graphs.forEach(model.proto(), graphs::put);
        int minElements = options.intValue(MIN_ELEMENTS);
        List<SharedLayer> chosen = new ArrayList<>();
        for (SharedLayer layer : layers) {
            Weight weight = layer.weight();
            boolean explicit = named.stream().anyMatch(layer::isNamedBy);
            if (!named.isEmpty() && !explicit) {
                continue; // only the named layers were asked for
            }
            String reason = null;
            if (exclude.stream().anyMatch(layer::isNamedBy)) {
                reason = "excluded by option '" + EXCLUDE + "'";
            } else if (!SharedLayer.isFloat(weight.type())) {
                reason = "weight of type " + weight.type().label() + "; only float32, float16 and bfloat16 weights"
                        + " are clustered";
            } else if (isGraphInput(graphs.get(weight.ref().graph()), weight.name())) {
                reason = "the weight is also a graph input, so callers may override it";
            } else if (weight.elements() < clusters) {
                if (explicit) {
                    throw new PluginException("layer " + layer.label() + " has " + weight.elements() + " values, fewer"
                            + " than the 2^" + options.intValue(BITS) + " = " + clusters + " clusters asked for; lower"
                            + " option '" + BITS + "' or leave the layer out");
                }
                reason = weight.elements() + " values, fewer than the " + clusters + " clusters of "
                        + options.intValue(BITS) + " bits";
            } else if (!explicit && weight.elements() < minElements) {
                reason = weight.elements() + " elements, fewer than " + MIN_ELEMENTS + " " + minElements;
            }
            if (reason == null) {
                chosen.add(layer);
            } else {
                skipped.add(new PluginResult.Skipped(layer.label(), reason));
            }
        }
        return chosen;
    }

    /** Every weight that a MatMul, Gemm or Conv reads as a layer weight, in model order. */
    static List<SharedLayer> layers(OnnxModel model) {
        List<SharedLayer> layers = new ArrayList<>();
        for (Weight weight : model.weights().all()) {
            List<Weight.Use> uses = weight.uses().stream().filter(SharedLayer::isLayerUse).toList();
            if (!uses.isEmpty()) {
                layers.add(new SharedLayer(weight, uses));
            }
        }
        return layers;
    }

    /** A name that matches nothing is a mistake a user wants to hear about, not a silent no-op. */
    private static void checkNames(OnnxModel model, List<SharedLayer> layers, Set<String> items, String option,
            boolean operatorTypes) throws PluginException {
        if (items.isEmpty()) {
            return;
        }
        Set<String> known = new HashSet<>();
        for (SharedLayer layer : layers) {
            known.add(layer.name());
            layer.layerUses().forEach(use -> {
                if (!use.nodeName().isEmpty()) {
                    known.add(use.nodeName());
                }
                if (operatorTypes) {
                    known.add(use.opType());
                }
            });
        }
        if (operatorTypes) {
            known.addAll(List.of("MatMul", "Gemm", "Conv"));
        }
        List<String> unknown = items.stream().filter(item -> !known.contains(item)).toList();
        if (unknown.isEmpty()) {
            return;
        }
        Set<String> nodeNames = new HashSet<>();
        Graphs.forEach(model.proto(), (path, graph) -> graph.getNodeList().stream().map(NodeProto::getName)
                .forEach(nodeNames::add));
        String listed = layers.stream().limit(LISTED).map(SharedLayer::name).collect(Collectors.joining(", "))
                + (layers.size() > LISTED ? " and " + (layers.size() - LISTED) + " more" : "");
        String hint = unknown.stream().anyMatch(nodeNames::contains)
                ? " (a node named there reads no MatMul, Gemm or Conv weight)" : "";
        throw new PluginException("option '" + option + "' names no layer of this model: " + String.join(", ", unknown)
                + hint + "; layer weights: " + (layers.isEmpty() ? "none" : listed));
    }

    private static boolean isGraphInput(GraphProto graph, String name) {
        return graph.getInputList().stream().anyMatch(input -> input.getName().equals(name));
    }

    static long defaultOpset(ModelProto model) {
        for (OperatorSetIdProto opset : model.getOpsetImportList()) {
            if (opset.getDomain().isEmpty() || opset.getDomain().equals("ai.onnx")) {
                return opset.getVersion();
            }
        }
        return 1;
    }

    /** Rounds a value to the precision a weight of this type stores. */
    static DoubleUnaryOperator storage(DataType type) {
        return switch (type) {
            case FLOAT -> v -> (float) v;
            case FLOAT16 -> v -> HalfFloats.halfToFloat(HalfFloats.floatToHalf((float) v));
            case BFLOAT16 -> v -> HalfFloats.bfloat16ToFloat(HalfFloats.floatToBfloat16((float) v));
            default -> throw new IllegalArgumentException("no codebook of type " + type.label());
        };
    }

    /** Clusters layers in parallel, each with its own seeded generator so the result does not depend on scheduling. */
    static final class Clusterer {

        /**
         * What became of one layer.
         *
         * @param layer the layer
         * @param result its clustering, or null when it is left as it was
         * @param skipReason why it is left, when {@code result} is null
         * @param keptZeros exact zeros decoded as exactly 0 by an entry of their own (0 when none is reserved)
         */
        record Outcome(SharedLayer layer, KMeans1D.Result result, String skipReason, int keptZeros) {
        }

        private final OnnxModel model;
        private final int bits;
        private final long seed;
        private final int iterations;
        private final double tolerance;
        private final double zeroShare;
        private final PluginContext context;

        Clusterer(OnnxModel model, int bits, long seed, int iterations, double tolerance, double zeroShare,
                PluginContext context) {
            this.model = Objects.requireNonNull(model, "model is null");
            this.bits = bits;
            this.seed = seed;
            this.iterations = iterations;
            this.tolerance = tolerance;
            this.zeroShare = zeroShare;
            this.context = Objects.requireNonNull(context, "context is null");
        }

        List<Outcome> clusterAll(List<SharedLayer> layers) {
            ProgressCounter progress = new ProgressCounter(context, 0.05, 0.9, layers.size());
            return layers.parallelStream().map(layer -> {
                context.checkCancelled();
                Outcome outcome = cluster(layer);
                progress.unitDone("clustered " + layer.name());
                return outcome;
            }).toList();
        }

        Outcome cluster(SharedLayer layer) {
            Weight weight = layer.weight();
            float[] values = Tensors.toFloats(model.weights().tensor(weight.ref()));
            int bad = Tensors.firstNonFinite(values);
            if (bad >= 0) {
                return new Outcome(layer, null, "value " + bad + " is " + values[bad] + "; only finite weights are clustered",
                        0);
            }
            long layerSeed = mix(seed, weight.ref().toString());
            int zeros = ZeroKeepingKMeans.zeros(values);
            if (zeros > 0 && zeros >= zeroShare * values.length) {
                return new Outcome(layer, ZeroKeepingKMeans.cluster(values, 1 << bits, layerSeed, iterations, tolerance,
                        storage(weight.type())), null, zeros);
            }
            KMeans1D.Result result = KMeans1D.cluster(values, 1 << bits, layerSeed, iterations, tolerance,
                    storage(weight.type()));
            return new Outcome(layer, result, null, 0);
        }

        /** A per-layer seed from the user's seed and the weight's identity (not its position in a thread pool). */
        private static long mix(long seed, String name) {
            long z = seed * 0x9E3779B97F4A7C15L + name.hashCode();
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }
    }
}

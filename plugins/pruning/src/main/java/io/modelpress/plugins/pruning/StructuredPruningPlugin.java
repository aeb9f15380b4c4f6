package io.modelpress.plugins.pruning;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Shapes;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.model.WeightIndex;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.OptionSpec;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.PluginSpi;
import io.modelpress.spi.Technique;
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
import java.util.TreeMap;
import java.util.stream.IntStream;

/**
 * Structured pruning: whole hidden units of Gemm/MatMul chains and whole output channels of Conv
 * chains are removed, with every tensor that holds one entry per channel (bias, BatchNormalization
 * parameters, the next layer's input rows or channels). Tensors really get smaller, so the ONNX
 * file and the compute shrink without any sparse kernel. The lowest-norm channels of each group go
 * first, or, with calibration data, the channels that carry least into the next layers; layers
 * whose channels reach something that cannot follow them are left and reported.
 */
public final class StructuredPruningPlugin implements CompressionPlugin {

    static final String RATIO = "ratio";
    static final String NORM = "norm";
    static final String EXCLUDE = "exclude";
    static final String RANK = "rank";
    static final String BY_WEIGHTS = "weights";
    static final String BY_ACTIVATIONS = "activations";
    static final double MAX_RATIO = 0.999;

    @Override
    public String id() {
        return "structured-pruning";
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
        return "Removes the lowest-norm hidden units and Conv channels (with their bias, BatchNorm and next-layer"
                + " slices): smaller tensors, same inputs and outputs";
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(
                OptionSpec.number(RATIO, 0.25, 0, MAX_RATIO, "fraction of the units or channels removed from each layer"),
                OptionSpec.choice(NORM, "l2", List.of("l1", "l2"),
                        "how a unit or channel is ranked: the L1 or L2 norm of the weights that compute it"),
                OptionSpec.list(EXCLUDE, "", List.of(), "node names, operator types (e.g. Conv) or weight names of layers"
                        + " whose outputs keep all their channels (their inputs still follow the layer before)"),
                OptionSpec.choice(RANK, BY_WEIGHTS, List.of(BY_WEIGHTS, BY_ACTIVATIONS), "weights: by the norm of the"
                        + " weights that compute each channel; activations: by what each channel carries into the next"
                        + " layers on calibration data (its root mean square times the norm of the weights that read it)"));
    }

    @Override
    public PluginResult apply(OnnxModel model, PluginOptions options, PluginContext context) throws PluginException {
        double ratio = options.number(RATIO);
        boolean l1 = options.text(NORM).equals("l1");
        PrunableWeights.checkExclusions(model, options.list(EXCLUDE));
        Set<String> exclude = Set.copyOf(options.list(EXCLUDE));
        context.progress(0.0, "following channels through the graph");
        List<ChannelGroups.Group> groups = ChannelGroups.of(model);
        if (groups.isEmpty()) {
            throw new PluginException("nothing to prune: the model has no Conv, Gemm or MatMul layer whose weight is a"
                    + " float tensor of the main graph");
        }
        WeightIndex index = model.weights();
        Optional<ChannelActivations> activations = options.text(RANK).equals(BY_ACTIVATIONS)
                ? Optional.of(measure(model, groups, context)) : Optional.empty();
        Report result = new Report();
        Map<Weight.Ref, TreeMap<Integer, int[]>> cuts = new LinkedHashMap<>();
        Map<Integer, Integer> depthwiseGroups = new HashMap<>();
        Set<String> reshaped = new HashSet<>();
        List<String> skippedReasons = new ArrayList<>();
        long removed = 0;
        int pruned = 0;
        for (int i = 0; i < groups.size(); i++) {
            context.checkCancelled();
            context.progress(0.1 + 0.5 * i / groups.size(), "ranking channels of group " + (i + 1) + " of " + groups.size());
            ChannelGroups.Group group = groups.get(i);
            String part = "outputs of " + group.label();
            String reason = group.blocked().or(() -> excluded(group, index, exclude)).orElse(null);
            int remove = (int) Math.min(group.channels() - 1L, Math.round(ratio * group.channels()));
            if (reason == null && remove < 1) {
                reason = group.channels() < 2 ? "a single channel" : "ratio " + ratio + " of " + group.channels()
                        + " channels rounds to none";
            }
            if (reason != null) {
                result.skipped(part, reason);
                skippedReasons.add(group.label() + ": " + reason);
                continue;
            }
            double[] importance = activations.isPresent() && !group.readers().isEmpty()
                    ? rankByActivations(group, index, l1, activations.get()) : rank(group, index, l1);
            int[] keep = keep(importance, remove);
            group.slices().forEach(slice -> cuts.computeIfAbsent(slice.weight(), k -> new TreeMap<>())
                    .put(slice.axis(), keep));
            group.depthwiseNodes().forEach(node -> depthwiseGroups.put(node, keep.length));
            reshaped.addAll(group.tensors());
            removed += remove;
            pruned++;
            result.change(String.format(Locale.ROOT, "%s: %d -> %d channels (%d removed, lowest %s norm); cut %s",
                    group.label(), group.channels(), keep.length, remove, l1 ? "L1" : "L2", slices(group, index, keep.length)));
        }
        if (pruned == 0) {
            throw new PluginException("nothing to prune: no layer's channels can be removed ("
                    + PrunableWeights.abbreviate(skippedReasons) + ")");
        }
        context.progress(0.6, "cutting " + cuts.size() + " tensors");
        Map<Weight.Ref, TensorProto> replacements = new LinkedHashMap<>();
        List<Weight.Ref> refs = List.copyOf(cuts.keySet());
        List<TensorProto> cutTensors = IntStream.range(0, refs.size()).parallel()
                .mapToObj(i -> cut(index.tensor(refs.get(i)), cuts.get(refs.get(i)))).toList();
        for (int i = 0; i < refs.size(); i++) {
            replacements.put(refs.get(i), cutTensors.get(i));
            reshaped.add(refs.get(i).name());
        }
        context.checkCancelled();
        ModelProto proto = WeightIndex.replace(model.proto(), replacements);
        proto = proto.toBuilder().setGraph(rewriteGraph(proto.getGraph(), depthwiseGroups, reshaped)).build();
        OnnxModel output = model.withProto(proto);
        context.progress(1.0, "done");
        return result
                .figure("parameters-before", index.totalElements())
                .figure("parameters", output.weights().totalElements())
                .figure("channels-removed", removed)
                .figure("groups-pruned", pruned)
                .figure("groups-skipped", groups.size() - pruned)
                .figure("onnx-bytes-before", model.serializedSize())
                .figure("onnx-bytes", output.serializedSize())
                .build(output);
    }

    /** Why the group is left by the user's choice: one of the layers that compute its channels is excluded. */
    private static Optional<String> excluded(ChannelGroups.Group group, WeightIndex index, Set<String> exclude) {
        if (exclude.isEmpty()) {
            return Optional.empty();
        }
        for (ChannelGroups.Slice producer : group.producers()) {
            Weight weight = index.get(producer.weight()).orElseThrow();
            if (exclude.contains(weight.name())) {
                return Optional.of("excluded: weight '" + weight.name() + "'");
            }
            for (Weight.Use use : weight.uses()) {
                if (exclude.contains(use.nodeName()) || exclude.contains(use.opType())) {
                    return Optional.of("excluded: " + use.opType() + (use.nodeName().isEmpty() ? "" : " '"
                            + use.nodeName() + "'"));
                }
            }
        }
        return Optional.empty();
    }

    /** Root mean square of every channel the prunable groups' readers read, on the calibration data. */
    private static ChannelActivations measure(OnnxModel model, List<ChannelGroups.Group> groups, PluginContext context)
            throws PluginException {
        CalibrationData data = context.calibrationData().orElseThrow(() -> new PluginException("option '" + RANK
                + "' = " + BY_ACTIVATIONS + " measures channels on calibration data, and none was supplied"));
        Map<String, Integer> read = new LinkedHashMap<>();
        for (ChannelGroups.Group group : groups) {
            if (group.blocked().isEmpty()) {
                group.readers().forEach(reader -> read.put(reader.input(), reader.axisFromEnd()));
            }
        }
        context.progress(0.05, "measuring " + read.size() + " activations on calibration data");
        return ChannelActivations.measure(model, read, data, context);
    }

    /**
     * Importance of each channel as what it carries into the next layers: its root mean square on calibration data
     * times the norm of each reader's weights for it, summed over the readers. A channel of small weights but a large
     * output (a bias, a folded BatchNorm) ranks high, as removing it would shift the next layer.
     */
    static double[] rankByActivations(ChannelGroups.Group group, WeightIndex index, boolean l1,
            ChannelActivations activations) {
        double[] importance = new double[group.channels()];
        for (ChannelGroups.Reader reader : group.readers()) {
            TensorProto tensor = index.tensor(reader.slice().weight());
            double[] norms = norms(Tensors.toFloats(tensor), Tensors.dims(tensor), reader.slice().axis(), l1);
            double[] carried = activations.rms(reader.input());
            for (int c = 0; c < importance.length; c++) {
                importance[c] += carried[c] * norms[c];
            }
        }
        return importance;
    }

    /** Importance of each channel: per producing layer its norm over the mean norm, summed over the group's producers. */
    static double[] rank(ChannelGroups.Group group, WeightIndex index, boolean l1) {
        double[] importance = new double[group.channels()];
        for (ChannelGroups.Slice producer : group.producers()) {
            TensorProto tensor = index.tensor(producer.weight());
            double[] norms = norms(Tensors.toFloats(tensor), Tensors.dims(tensor), producer.axis(), l1);
            double mean = java.util.Arrays.stream(norms).average().orElse(0);
            for (int c = 0; c < norms.length; c++) {
                importance[c] += mean > 0 ? norms[c] / mean : norms[c];
            }
        }
        return importance;
    }

    static double[] norms(float[] values, long[] dims, int axis, boolean l1) {
        int along = (int) dims[axis];
        long inner = 1;
        for (int d = axis + 1; d < dims.length; d++) {
            inner *= dims[d];
        }
        double[] norms = new double[along];
        int block = Math.toIntExact(inner);
        for (int start = 0; start < values.length; start += block * along) {
            for (int c = 0; c < along; c++) {
                double sum = 0;
                int from = start + c * block;
                for (int i = from; i < from + block; i++) {
                    sum += l1 ? Math.abs(values[i]) : (double) values[i] * values[i];
                }
                norms[c] += sum;
            }
        }
        if (!l1) {
            for (int c = 0; c < along; c++) {
                norms[c] = Math.sqrt(norms[c]);
            }
        }
        return norms;
    }

    /** The channels kept, ascending: all but the {@code remove} least important (ties: the later one goes). */
    static int[] keep(double[] importance, int remove) {
        Integer[] order = new Integer[importance.length];
        for (int c = 0; c < order.length; c++) {
            order[c] = c;
        }
        // a few thousand channels at most per group: boxing here is negligible next to the weights
        java.util.Arrays.sort(order, Comparator.<Integer>comparingDouble(c -> importance[c]).thenComparing(c -> -c));
        boolean[] drop = new boolean[importance.length];
        for (int r = 0; r < remove; r++) {
            drop[order[r]] = true;
        }
        return IntStream.range(0, importance.length).filter(c -> !drop[c]).toArray();
    }

    private static TensorProto cut(TensorProto tensor, TreeMap<Integer, int[]> axes) {
        byte[] raw = WeightBytes.raw(tensor);
        long[] dims = Tensors.dims(tensor);
        int width = DataType.of(tensor).bits() / 8;
        for (Map.Entry<Integer, int[]> axis : axes.entrySet()) {
            raw = WeightBytes.slice(raw, dims, width, axis.getKey(), axis.getValue());
            dims[axis.getKey()] = axis.getValue().length;
        }
        return WeightBytes.withRaw(tensor, dims, raw);
    }

    /** Depthwise Convs get their new group count; shapes recorded for the changed tensors are dropped. */
    private static GraphProto rewriteGraph(GraphProto graph, Map<Integer, Integer> depthwiseGroups, Set<String> reshaped) {
        GraphProto.Builder builder = graph.toBuilder();
        depthwiseGroups.forEach((n, channels) -> {
            NodeProto.Builder node = builder.getNode(n).toBuilder();
            for (int a = 0; a < node.getAttributeCount(); a++) {
                if (node.getAttribute(a).getName().equals("group")) {
                    node.setAttribute(a, Nodes.attr("group", (long) channels));
                }
            }
            builder.setNode(n, node);
        });
        List<ValueInfoProto> kept = graph.getValueInfoList().stream()
                .filter(info -> !reshaped.contains(info.getName())).toList();
        return builder.clearValueInfo().addAllValueInfo(kept).build();
    }

    private static String slices(ChannelGroups.Group group, WeightIndex index, int kept) {
        List<String> parts = new ArrayList<>();
        for (ChannelGroups.Slice slice : group.slices()) {
            long[] dims = index.get(slice.weight()).orElseThrow().dims();
            long[] after = dims.clone();
            after[slice.axis()] = kept;
            parts.add(slice.weight() + " " + Shapes.format(dims) + "->" + Shapes.format(after));
        }
        return PrunableWeights.abbreviate(parts);
    }
}

package io.modelpress.plugins.quantization;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.model.DataType;
import io.modelpress.model.GraphPath;
import io.modelpress.model.Graphs;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.model.WeightIndex;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.ModelRunner;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.TensorData;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Activation smoothing for dynamic quantization. A per-tensor run-time scale is set by the
 * activation's largest channel, so a few outlier channels leave the rest with a handful of
 * levels. Per input channel j of a MatMul/Gemm the activation is divided by
 * s_j = max|X_j|^a / max|W_j|^(1-a) and weight row j multiplied by it: the product is the same,
 * the activation's channels get closer in range and the weight's per-output-channel scales
 * absorb the difference. When nothing else reads the activation, the division goes into the node
 * that makes it: a LayerNormalization's scale and bias, or a Mul's per-channel constant factor, take
 * 1/s exactly; otherwise it is a Mul by a
 * constant vector in front of the smoothed readers (an elementwise pass, small beside the matrix
 * product, and ONNX Runtime still fuses the integer MatMuls behind it), the other readers
 * (residual connections) keeping the original values. Activations whose channels are alike are
 * left alone: there smoothing only skews the weights. Ranges come from calibration data; a
 * {@link Plan} ranks the activations by the strength of their outliers so that a fidelity search
 * can smooth the fewest.
 */
final class Smoothing {

    /** Channel ranges below this count as empty: such channels keep s = 1. */
    private static final float TINY = 1e-5f;

    private Smoothing() {
    }

    /** A weight read as input 1 of MatMul or Gemm, with row j (or column j when transposed) meeting channel j. */
    private record Reader(Weight weight, boolean transposed, int k) {
    }

    /**
     * The smoothed model.
     *
     * @param activations activations smoothed
     * @param eligible activations that could have been smoothed (outlier channels, and a way to divide them)
     * @param folded of those smoothed, the ones whose 1/s went into a constant of the node making them
     * @param even activations left alone because no channel stands out
     * @param unfoldable activations left alone because only an added Mul could divide them, and none was wanted
     */
    record Outcome(OnnxModel model, int activations, int eligible, int folded, int even, int unfoldable) {
    }

    /** An activation worth smoothing: its readers, channel ranges and the constants that can take 1/s (if any). */
    private record Candidate(String activation, List<Reader> readers, float[] xMax, double outlierRatio,
            List<Weight> affine) {
    }

    /**
     * The activations of a model worth smoothing, measured once on calibration data and ranked by
     * the strength of their outliers, so that a search can smooth only as many as it needs.
     */
    static final class Plan {
        private final OnnxModel model;
        private final List<Candidate> ranked;
        private final double alpha;
        private final int even;
        private final int unfoldable;

        private Plan(OnnxModel model, List<Candidate> ranked, double alpha, int even, int unfoldable) {
            this.model = model;
            this.ranked = ranked;
            this.alpha = alpha;
            this.even = even;
            this.unfoldable = unfoldable;
        }

        /** How many activations could be smoothed. */
        int size() {
            return ranked.size();
        }

        /** The model with the {@code count} activations of strongest outliers smoothed (the model itself for 0). */
        Outcome smooth(int count) {
            if (count == 0) {
                return new Outcome(model, 0, size(), 0, even, unfoldable);
            }
            Map<Weight.Ref, TensorProto> scaledWeights = new LinkedHashMap<>();
            Map<String, List<Reader>> groups = new LinkedHashMap<>();
            Map<String, float[]> inverse = new LinkedHashMap<>();
            int folded = 0;
            for (Candidate candidate : ranked.subList(0, count)) {
                groups.put(candidate.activation(), candidate.readers());
                float[] inv = Smoothing.smooth(model, candidate.readers(), candidate.xMax(), alpha, scaledWeights);
                if (candidate.affine().isEmpty()) {
                    inverse.put(candidate.activation(), inv);
                    continue;
                }
                // the producing node's constants take 1/s: no extra node at all
                candidate.affine().forEach(weight -> scaledWeights.put(weight.ref(),
                        scaled(model, weight, inv, scaledWeights)));
                folded++;
            }
            OnnxModel scaled = model.withProto(WeightIndex.replace(model.proto(), scaledWeights));
            return new Outcome(inverse.isEmpty() ? scaled : rewire(scaled, groups, inverse), count, size(), folded,
                    even, unfoldable);
        }
    }

    /**
     * Measures the activations that {@code candidates} read as integer MatMul/Gemm inputs in the main
     * graph and ranks those worth smoothing. {@code integer} says which weights will take integer
     * compute; the rest are left alone.
     */
    static Plan plan(OnnxModel model, List<Weight> candidates, Predicate<Weight> integer, double alpha,
            double minOutlierRatio, boolean addMul, CalibrationData data, PluginContext context) throws PluginException {
        Map<String, List<Reader>> groups = groups(model, candidates, integer);
        if (groups.isEmpty()) {
            return new Plan(model, List.of(), alpha, 0, 0);
        }
        context.progress(0.05, "measuring " + groups.size() + " activations for smoothing");
        Map<String, float[]> activationMax = channelMax(model, groups, data, context);
        List<Candidate> ranked = new ArrayList<>();
        int even = 0;
        int unfoldable = 0;
        for (Map.Entry<String, List<Reader>> group : groups.entrySet()) {
            float[] xMax = activationMax.get(group.getKey());
            if (xMax == null) {
                continue;
            }
            double ratio = outlierRatio(xMax);
            if (ratio < minOutlierRatio) {
                // no outlier channels: smoothing would only skew the weights (and cost a Mul)
                even++;
                continue;
            }
            List<Weight> affine = foldable(model, group.getKey(), group.getValue(), xMax.length);
            if (affine.isEmpty() && !addMul) {
                unfoldable++;
                continue;
            }
            ranked.add(new Candidate(group.getKey(), group.getValue(), xMax, ratio, affine));
        }
        ranked.sort(Comparator.comparingDouble(Candidate::outlierRatio).reversed());
        return new Plan(model, ranked, alpha, even, unfoldable);
    }

    /**
     * The constants of the node that makes {@code activation} which can take 1/s exactly, when the
     * activation's readers are only the smoothed ones: the scale and bias of a LayerNormalization over
     * the last axis, or the per-channel constant factor of a Mul. Each constant must belong to that
     * node alone. None otherwise. A scalar factor is not widened into a vector: ONNX Runtime's fusions
     * (a GELU's closing Mul by 0.5, for one) match scalars, and a widened one ran slower on MiniLM than
     * the Mul it saved.
     */
    private static List<Weight> foldable(OnnxModel model, String activation, List<Reader> readers, int k) {
        GraphProto main = model.proto().getGraph();
        NodeProto producer = null;
        for (NodeProto node : main.getNodeList()) {
            if (node.getOutputList().contains(activation)) {
                producer = node;
            }
        }
        if (producer == null || producer.getOutputCount() > 1
                || main.getOutputList().stream().anyMatch(v -> v.getName().equals(activation))) {
            return List.of();
        }
        boolean microsoft = producer.getDomain().equals(ModelEdit.MS_DOMAIN);
        if (!producer.getDomain().isEmpty() && !microsoft) {
            return List.of();
        }
        int[] readBy = {0};
        Graphs.forEach(model.proto(), (path, graph) -> graph.getNodeList().forEach(
                node -> readBy[0] += (int) node.getInputList().stream().filter(activation::equals).count()));
        if (readBy[0] != readers.stream().mapToInt(r -> r.weight().uses().size()).sum()) {
            return List.of();
        }
        // a fused SkipLayerNormalization (input, skip, gamma, beta, bias) normalises like LayerNormalization:
        // its gamma and beta take 1/s the same way
        boolean skip = microsoft && producer.getOpType().equals("SkipLayerNormalization");
        if (skip || !microsoft && producer.getOpType().equals("LayerNormalization")
                && Nodes.intAttribute(producer, "axis", -1) == -1) {
            List<Weight> affine = new ArrayList<>();
            for (int input = skip ? 2 : 1; input < Math.min(producer.getInputCount(), skip ? 4 : 3); input++) {
                Optional<Weight> vector = ownConstant(model, producer.getInput(input), k);
                if (vector.isEmpty()) {
                    return List.of();
                }
                affine.add(vector.get());
            }
            return affine;
        }
        if (microsoft && producer.getOpType().equals("Attention") && producer.getInputCount() >= 3) {
            // a fused attention's output channel j is a sum of value channel j: the value third of the packed
            // weight's columns and of the bias take 1/s exactly
            Optional<Weight> weight = model.weights().get(new Weight.Ref(GraphPath.MAIN, producer.getInput(1)))
                    .filter(w -> w.type() == DataType.FLOAT && w.uses().size() == 1 && w.rank() == 2 && w.dims()[1] == 3L * k);
            Optional<Weight> bias = model.weights().get(new Weight.Ref(GraphPath.MAIN, producer.getInput(2)))
                    .filter(b -> b.type() == DataType.FLOAT && b.uses().size() == 1 && b.elements() == 3L * k);
            return weight.isPresent() && bias.isPresent() ? List.of(weight.get(), bias.get()) : List.of();
        }
        if (!microsoft && producer.getOpType().equals("Mul") && producer.getInputCount() == 2) {
            // exactly one operand constant: the other is the activation's own value
            Optional<Weight> left = ownConstant(model, producer.getInput(0), k);
            Optional<Weight> right = ownConstant(model, producer.getInput(1), k);
            if (left.isPresent() != right.isPresent()) {
                return List.of(left.orElseGet(right::get));
            }
        }
        return List.of();
    }

    /** A float constant of {@code k} values along the last axis, read by one node only. */
    private static Optional<Weight> ownConstant(OnnxModel model, String name, int k) {
        if (name.isEmpty()) {
            return Optional.empty();
        }
        return model.weights().get(new Weight.Ref(GraphPath.MAIN, name)).filter(weight -> weight.type() == DataType.FLOAT
                && weight.uses().size() == 1 && weight.elements() == k && weight.dims().length > 0
                && weight.dims()[weight.dims().length - 1] == k);
    }

    /**
     * {@code weight} with the last {@code factors.length} entries of its last axis multiplied by the
     * factors: the whole vector for a layer norm's scale and bias or a Mul's factor, the value third of
     * a fused attention's packed QKV weight and bias.
     */
    private static TensorProto scaled(OnnxModel model, Weight weight, float[] factors, Map<Weight.Ref, TensorProto> scaled) {
        float[] values = Tensors.toFloats(current(model, weight, scaled));
        long[] dims = weight.dims();
        int width = (int) dims[dims.length - 1];
        int offset = width - factors.length;
        for (int row = 0; row < values.length / width; row++) {
            for (int j = 0; j < factors.length; j++) {
                values[row * width + offset + j] *= factors[j];
            }
        }
        return Tensors.ofFloats(weight.name(), dims, values);
    }

    /** The weight as smoothing has left it so far: a fused attention's weight may be scaled twice (rows and values). */
    private static TensorProto current(OnnxModel model, Weight weight, Map<Weight.Ref, TensorProto> scaled) {
        TensorProto already = scaled.get(weight.ref());
        return already != null ? already : model.weights().tensor(weight.ref());
    }

    /** Scales the rows of the activation's weights by s (into {@code scaled}) and returns 1/s. */
    private static float[] smooth(OnnxModel model, List<Reader> readers, float[] xMax, double alpha,
            Map<Weight.Ref, TensorProto> scaled) {
        List<float[]> values = new ArrayList<>();
        float[] wMax = new float[xMax.length];
        for (Reader reader : readers) {
            float[] w = Tensors.toFloats(current(model, reader.weight(), scaled));
            rowMax(w, reader, wMax);
            values.add(w);
        }
        float[] s = factors(xMax, wMax, alpha);
        for (int r = 0; r < values.size(); r++) {
            Weight weight = readers.get(r).weight();
            scaleRows(values.get(r), readers.get(r), s);
            scaled.put(weight.ref(), Tensors.ofFloats(weight.name(), weight.dims(), values.get(r)));
        }
        float[] inverse = new float[s.length];
        for (int j = 0; j < s.length; j++) {
            inverse[j] = 1f / s[j];
        }
        return inverse;
    }

    /** Main-graph activations and the weights that read them, each weight read by one activation only. */
    private static Map<String, List<Reader>> groups(OnnxModel model, List<Weight> candidates,
            Predicate<Weight> integer) {
        Map<String, List<Reader>> groups = new LinkedHashMap<>();
        for (Weight weight : candidates) {
            if (!weight.ref().graph().isMain() || weight.rank() != 2 || !integer.test(weight)) {
                continue;
            }
            reader(model, weight).ifPresent(r -> groups.computeIfAbsent(
                    node(model, weight.uses().get(0)).getInput(0), a -> new ArrayList<>()).add(r));
        }
        // an activation whose readers disagree on its width is not a channel axis we understand
        groups.values().removeIf(readers -> readers.stream().mapToInt(Reader::k).distinct().count() != 1);
        return groups;
    }

    private static Optional<Reader> reader(OnnxModel model, Weight weight) {
        String activation = null;
        Boolean transposed = null;
        for (Weight.Use use : weight.uses()) {
            NodeProto node = node(model, use);
            boolean t = use.opType().equals("Gemm") && Nodes.intAttribute(node, "transB", 0) == 1;
            if (activation != null && (!activation.equals(node.getInput(0)) || transposed != t)) {
                return Optional.empty();
            }
            activation = node.getInput(0);
            transposed = t;
        }
        if (activation == null) {
            return Optional.empty();
        }
        long[] dims = weight.dims();
        return Optional.of(new Reader(weight, transposed, (int) (transposed ? dims[1] : dims[0])));
    }

    private static NodeProto node(OnnxModel model, Weight.Use use) {
        return model.proto().getGraph().getNode(use.nodeIndex());
    }

    /** Per activation, the largest magnitude of each channel (last axis) over the calibration samples. */
    private static Map<String, float[]> channelMax(OnnxModel model, Map<String, List<Reader>> groups, CalibrationData data,
            PluginContext context) {
        Map<String, float[]> max = new HashMap<>();
        Set<String> unusable = new HashSet<>();
        try (ModelRunner runner = context.runner(Calibrator.exposing(model, groups.keySet()))) {
            for (int sample = 0; sample < data.size(); sample++) {
                context.checkCancelled();
                Map<String, TensorData> outputs = runner.run(data.sample(sample));
                for (Map.Entry<String, List<Reader>> group : groups.entrySet()) {
                    TensorData tensor = outputs.get(group.getKey());
                    int k = group.getValue().get(0).k();
                    if (!lastAxisIs(tensor, k)) {
                        unusable.add(group.getKey());
                    } else if (!unusable.contains(group.getKey())) {
                        accumulate(max.computeIfAbsent(group.getKey(), g -> new float[k]), tensor.toFloats());
                    }
                }
            }
        }
        max.keySet().removeAll(unusable);
        return max;
    }

    private static boolean lastAxisIs(TensorData tensor, int k) {
        return tensor != null && tensor.type() == DataType.FLOAT && tensor.shape().length > 0
                && tensor.shape()[tensor.shape().length - 1] == k;
    }

    private static void accumulate(float[] channels, float[] values) {
        int k = channels.length;
        for (int row = 0; row < values.length; row += k) {
            for (int j = 0; j < k; j++) {
                channels[j] = Math.max(channels[j], Math.abs(values[row + j]));
            }
        }
    }

    /** Folds the largest magnitude of each input row of the weight into {@code max}. */
    private static void rowMax(float[] w, Reader reader, float[] max) {
        int k = reader.k();
        int n = w.length / k;
        for (int j = 0; j < k; j++) {
            float m = max[j];
            for (int c = 0; c < n; c++) {
                m = Math.max(m, Math.abs(w[reader.transposed() ? c * k + j : j * n + c]));
            }
            max[j] = m;
        }
    }

    private static void scaleRows(float[] w, Reader reader, float[] s) {
        int k = reader.k();
        int n = w.length / k;
        for (int j = 0; j < k; j++) {
            for (int c = 0; c < n; c++) {
                w[reader.transposed() ? c * k + j : j * n + c] *= s[j];
            }
        }
    }

    /** The largest channel range over the median one (infinite when most channels are silent). */
    static double outlierRatio(float[] xMax) {
        float[] sorted = xMax.clone();
        Arrays.sort(sorted);
        float median = sorted[sorted.length / 2];
        return median < TINY ? Double.POSITIVE_INFINITY : sorted[sorted.length - 1] / median;
    }

    /** s_j = max|X_j|^a / max|W_j|^(1-a); channels with no range on either side keep 1. */
    static float[] factors(float[] xMax, float[] wMax, double alpha) {
        float[] s = new float[xMax.length];
        for (int j = 0; j < s.length; j++) {
            if (xMax[j] < TINY || wMax[j] < TINY) {
                s[j] = 1f;
                continue;
            }
            s[j] = (float) (Math.pow(xMax[j], alpha) / Math.pow(wMax[j], 1 - alpha));
        }
        return s;
    }

    /** Inserts one Mul by 1/s per activation, before its first smoothed reader, and points the readers at it. */
    private static OnnxModel rewire(OnnxModel model, Map<String, List<Reader>> groups, Map<String, float[]> inverse) {
        ModelEdit edit = new ModelEdit(model.proto());
        for (Map.Entry<String, float[]> entry : inverse.entrySet()) {
            String activation = entry.getKey();
            String factor = edit.fresh(activation + "_smooth_inverse");
            edit.addInitializer(GraphPath.MAIN, Tensors.ofFloats(factor, new long[] {entry.getValue().length},
                    entry.getValue()));
            String smoothed = edit.fresh(activation + "_smoothed");
            int first = Integer.MAX_VALUE;
            for (Reader reader : groups.get(activation)) {
                for (Weight.Use use : reader.weight().uses()) {
                    first = Math.min(first, use.nodeIndex());
                    NodeProto node = node(model, use);
                    edit.replace(GraphPath.MAIN, use.nodeIndex(), List.of(node.toBuilder().setInput(0, smoothed).build()));
                }
            }
            edit.insertBefore(GraphPath.MAIN, first, List.of(edit.node("Mul", List.of(activation, factor), List.of(smoothed))));
        }
        return model.withProto(edit.build());
    }

    /** The report line. */
    static String describe(Outcome outcome, double alpha, double minOutlierRatio) {
        String even = outcome.even() == 0 ? "" : String.format(Locale.ROOT, "; %d left as they are (no channel "
                + "range %.1fx the median one)", outcome.even(), minOutlierRatio);
        if (outcome.unfoldable() > 0) {
            even += String.format(Locale.ROOT, "; %d left as they are (only an added Mul could divide them)",
                    outcome.unfoldable());
        }
        if (outcome.activations() == 0) {
            String why = outcome.eligible() > 0
                    ? "the model reached the fidelity target without it"
                    : "no activation of the main graph read by an integer MatMul/Gemm has outlier channels that "
                            + "calibration could measure" + (outcome.unfoldable() > 0 ? " and a node to fold into" : "");
            return "nothing smoothed: " + why + even;
        }
        String which = outcome.activations() == outcome.eligible() ? outcome.activations() + " activations smoothed"
                : outcome.activations() + " of " + outcome.eligible() + " activations with outlier channels smoothed "
                        + "(the strongest outliers first, as many as the fidelity target needed)";
        return String.format(Locale.ROOT, "%s (alpha %.2f) for the integer MatMul/Gemm reading them: weight rows scaled "
                + "by s, the activation divided by s in the node making it (%d) or by a Mul before its readers (%d)",
                which, alpha, outcome.folded(), outcome.activations() - outcome.folded()) + even;
    }
}

package io.modelpress.plugins.fusion;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.Tensors;
import io.modelpress.model.ValueNames;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The pattern matchers. Each pass walks one graph, finds the subgraphs a BERT-family export
 * writes out op by op and replaces each by one ONNX Runtime contrib operator computing the same
 * function. A pattern that differs in any detail (another axis, a constant that is not the
 * expected one, an intermediate value read elsewhere) is left as it is: fusing must never change
 * what the graph computes.
 */
final class Fusions {

    static final String MS_DOMAIN = "com.microsoft";

    private final ValueNames names;
    private final Map<String, String> maskIndex = new HashMap<>();
    private final Map<String, String> int32 = new HashMap<>();

    Fusions(ValueNames names) {
        this.names = names;
    }

    /** One matched projection {@code Add(bias, MatMul(input, weight))}. */
    private record Projection(String input, String weight, String bias) {
    }

    // ---------------------------------------------------------------- attention

    /**
     * Softmax(Q·Kᵀ / √d + mask)·V with Q, K, V projected from one input and split into heads by
     * Reshape + Transpose, merged back by Transpose + Reshape: becomes one Attention with the three
     * projections packed into one [hidden, 3·hidden] weight and the 2-D attention mask as mask_index.
     */
    int attention(GraphView g, Rewrite rewrite) {
        int count = 0;
        for (int n = 0; n < g.graph.getNodeCount(); n++) {
            NodeProto softmax = g.node(n);
            if (softmax.getOpType().equals("Softmax") && softmax.getDomain().isEmpty()) {
                count += attentionAt(g, rewrite, n) ? 1 : 0;
            }
        }
        return count;
    }

    private boolean attentionAt(GraphView g, Rewrite rewrite, int softmaxIndex) {
        NodeProto softmax = g.node(softmaxIndex);
        long axis = Nodes.intAttribute(softmax, "axis", -1);
        if (axis != 3 && axis != -1) {
            return false;
        }
        List<Integer> nodes = new ArrayList<>();
        nodes.add(softmaxIndex);
        String scores = softmax.getInput(0);
        String maskTerm = null;
        int scaled = scaledScores(g, scores);
        if (scaled < 0) {
            int maskAdd = g.producer(scores, "Add");
            if (maskAdd < 0 || !g.onlyReadBy(scores, softmaxIndex)) {
                return false;
            }
            NodeProto add = g.node(maskAdd);
            for (String input : add.getInputList()) {
                if (scaled < 0 && scaledScores(g, input) >= 0 && g.onlyReadBy(input, maskAdd)) {
                    scaled = scaledScores(g, input);
                    maskTerm = GraphView.other(add, input).orElse(null);
                }
            }
            if (scaled < 0 || maskTerm == null) {
                return false;
            }
            nodes.add(maskAdd);
        }
        nodes.add(scaled);
        NodeProto scale = g.node(scaled);
        float factor = g.scalar(scale.getInput(1)).orElseThrow();
        float scaleValue = scale.getOpType().equals("Div") ? 1f / factor : factor;
        int qk = g.producer(scale.getInput(0), "MatMul");
        int qTranspose = g.producer(g.node(qk).getInput(0), "Transpose");
        int kTranspose = g.producer(g.node(qk).getInput(1), "Transpose");
        if (qTranspose < 0 || kTranspose < 0 || !g.onlyReadBy(g.node(qk).getOutput(0), scaled)
                || !Arrays.equals(GraphView.perm(g.node(qTranspose)), new long[] {0, 2, 1, 3})
                || !Arrays.equals(GraphView.perm(g.node(kTranspose)), new long[] {0, 2, 3, 1})) {
            return false;
        }
        int context = g.onlyReader(softmax.getOutput(0), "MatMul");
        if (context < 0 || !g.node(context).getInput(0).equals(softmax.getOutput(0))
                || !g.onlyReadBy(g.node(scaled).getOutput(0), maskTerm == null ? softmaxIndex : nodes.get(1))) {
            return false;
        }
        int vTranspose = g.producer(g.node(context).getInput(1), "Transpose");
        int merge = g.onlyReader(g.node(context).getOutput(0), "Transpose");
        if (vTranspose < 0 || merge < 0 || !Arrays.equals(GraphView.perm(g.node(vTranspose)), new long[] {0, 2, 1, 3})
                || !Arrays.equals(GraphView.perm(g.node(merge)), new long[] {0, 2, 1, 3})) {
            return false;
        }
        int output = -1;
        for (int reader : g.readers(g.node(merge).getOutput(0))) {
            output = g.node(reader).getOpType().equals("Reshape") ? reader : output;
        }
        if (output < 0 || !g.node(output).getInput(0).equals(g.node(merge).getOutput(0))
                || !onlyShapeReaders(g, g.node(merge).getOutput(0), output)) {
            return false;
        }
        int[] splits = new int[3];
        Projection[] projections = new Projection[3];
        int[] transposes = {qTranspose, kTranspose, vTranspose};
        for (int i = 0; i < 3; i++) {
            splits[i] = g.producer(g.node(transposes[i]).getInput(0), "Reshape");
            if (splits[i] < 0 || !g.onlyReadBy(g.node(transposes[i]).getOutput(0), i == 2 ? context : qk)
                    || !g.onlyReadBy(g.node(splits[i]).getOutput(0), transposes[i])) {
                return false;
            }
            Optional<Projection> projection = projection(g, g.node(splits[i]).getInput(0));
            if (projection.isEmpty()) {
                return false;
            }
            projections[i] = projection.get();
        }
        String input = projections[0].input();
        long[] dims = g.dims(projections[0].weight()).orElseThrow();
        for (Projection projection : projections) {
            if (!projection.input().equals(input) || !Arrays.equals(g.dims(projection.weight()).orElseThrow(), dims)) {
                return false;
            }
        }
        long heads = heads(g, g.node(splits[0]));
        long hidden = dims[1];
        if (heads <= 0 || hidden % heads != 0 || heads(g, g.node(splits[1])) != heads
                || heads(g, g.node(splits[2])) != heads) {
            return false;
        }
        Optional<Mask> mask = maskTerm == null ? Optional.empty() : mask(g, maskTerm);
        if (maskTerm != null && mask.isEmpty()) {
            return false;
        }
        nodes.addAll(List.of(qk, qTranspose, kTranspose, vTranspose, splits[0], splits[1], splits[2], context, merge));
        if (!rewrite.free(nodes) || !rewrite.free(List.of(output))) {
            return false;
        }
        String base = softmax.getName().isEmpty() ? "attention" : softmax.getName();
        String weight = names.fresh(base + "_qkv_weight");
        String bias = names.fresh(base + "_qkv_bias");
        rewrite.initializer(packWeights(g, weight, projections, (int) dims[0], (int) hidden));
        rewrite.initializer(packBias(g, bias, projections, (int) hidden));
        List<String> inputs = new ArrayList<>(List.of(input, weight, bias));
        List<AttributeProto> attributes = new ArrayList<>();
        attributes.add(Nodes.attr("num_heads", heads));
        if (mask.isPresent()) {
            inputs.add(maskIndex(rewrite, mask.get().input()));
            attributes.add(Nodes.attr("mask_filter_value", mask.get().fill()));
        }
        float standard = (float) (1 / Math.sqrt(hidden / heads));
        if (Math.abs(scaleValue - standard) > 1e-6f * standard) {
            attributes.add(Nodes.attr("scale", scaleValue));
        }
        NodeProto attention = Nodes.node("Attention", names.fresh(base + "_fused"), inputs,
                List.of(g.node(output).getOutput(0)), attributes.toArray(AttributeProto[]::new))
                .toBuilder().setDomain(MS_DOMAIN).build();
        rewrite.fuse(nodes, output, attention);
        return true;
    }

    /** Shape arithmetic an exporter writes to compute a Reshape's target shape from a tensor's shape. */
    private static final Set<String> SHAPE_OPS = Set.of("Shape", "Gather", "Unsqueeze", "Squeeze",
            "Concat", "Cast", "Slice", "Mul", "Div", "Add", "Sub", "Constant");

    /**
     * Whether {@code value} is read by {@code reshape} as its data and otherwise only by Shape
     * nodes whose results go nowhere but into that Reshape's shape input: after fusion the whole
     * shape computation goes with it.
     */
    private static boolean onlyShapeReaders(GraphView g, String value, int reshape) {
        Deque<Integer> pending = new ArrayDeque<>();
        for (int reader : g.readers(value)) {
            if (reader != reshape) {
                if (!g.node(reader).getOpType().equals("Shape")) {
                    return false;
                }
                pending.add(reader);
            }
        }
        Set<Integer> seen = new HashSet<>();
        while (!pending.isEmpty()) {
            int n = pending.pop();
            if (!seen.add(n)) {
                continue;
            }
            NodeProto node = g.node(n);
            if (!node.getDomain().isEmpty() || !SHAPE_OPS.contains(node.getOpType())) {
                return false;
            }
            for (String output : node.getOutputList()) {
                if (g.isGraphOutput(output)) {
                    return false;
                }
                for (int reader : g.readers(output)) {
                    if (reader == reshape) {
                        if (!g.node(reshape).getInput(1).equals(output)) {
                            return false;
                        }
                    } else {
                        pending.add(reader);
                    }
                }
            }
        }
        return true;
    }

    /** A Div or Mul of a MatMul by a constant scalar, or -1. */
    private static int scaledScores(GraphView g, String value) {
        for (String op : List.of("Div", "Mul")) {
            int index = g.producer(value, op);
            if (index >= 0 && g.scalar(g.node(index).getInput(1)).isPresent()
                    && g.producer(g.node(index).getInput(0), "MatMul") >= 0) {
                return index;
            }
        }
        return -1;
    }

    /** {@code Add(bias, MatMul(input, weight))} in either order, with constant 2-D weight and 1-D bias. */
    private static Optional<Projection> projection(GraphView g, String value) {
        int add = g.producer(value, "Add");
        if (add < 0) {
            return Optional.empty();
        }
        for (String input : g.node(add).getInputList()) {
            int matMul = g.producer(input, "MatMul");
            String bias = GraphView.other(g.node(add), input).orElse("");
            if (matMul < 0 || g.dims(bias).map(d -> d.length != 1).orElse(true)) {
                continue;
            }
            String weight = g.node(matMul).getInput(1);
            Optional<long[]> dims = g.dims(weight);
            if (dims.isPresent() && dims.get().length == 2 && g.floats(weight).isPresent()
                    && g.floats(bias).map(b -> b.length == dims.get()[1]).orElse(false)) {
                return Optional.of(new Projection(g.node(matMul).getInput(0), weight, bias));
            }
        }
        return Optional.empty();
    }

    /** The head count a [batch, sequence, heads, head size] Reshape splits into, or -1. */
    private static long heads(GraphView g, NodeProto reshape) {
        String shape = reshape.getInput(1);
        Optional<long[]> constant = g.longs(shape);
        if (constant.isPresent()) {
            return constant.get().length == 4 ? constant.get()[2] : -1;
        }
        int concat = g.producer(shape, "Concat");
        if (concat < 0 || g.node(concat).getInputCount() != 4) {
            return -1;
        }
        return g.longs(g.node(concat).getInput(2)).filter(v -> v.length == 1).map(v -> v[0]).orElse(-1L);
    }

    /** The 2-D mask input and the value the graph adds where it is 0. */
    private record Mask(String input, float fill) {
    }

    /**
     * {@code (1 - float(unsqueeze(mask, [1, 2]))) · fill}: a [batch, sequence] 0/1 mask broadcast
     * over heads and query positions, which Attention takes as a 2-D mask_index.
     */
    private static Optional<Mask> mask(GraphView g, String term) {
        int mul = g.producer(term, "Mul");
        if (mul < 0) {
            return Optional.empty();
        }
        for (String input : g.node(mul).getInputList()) {
            Optional<Float> fill = g.scalar(GraphView.other(g.node(mul), input).orElse(""));
            int sub = g.producer(input, "Sub");
            if (fill.isEmpty() || sub < 0 || !g.scalar(g.node(sub).getInput(0)).map(v -> v == 1f).orElse(false)) {
                continue;
            }
            String value = g.node(sub).getInput(1);
            List<Long> axes = new ArrayList<>();
            boolean cast = false;
            while (g.graphInput(value).isEmpty()) {
                int unsqueeze = g.producer(value, "Unsqueeze");
                int castNode = g.producer(value, "Cast");
                if (unsqueeze >= 0) {
                    Optional<long[]> these = g.axes(g.node(unsqueeze));
                    if (these.isEmpty()) {
                        return Optional.empty();
                    }
                    Arrays.stream(these.get()).forEach(axes::add);
                    value = g.node(unsqueeze).getInput(0);
                } else if (castNode >= 0 && Nodes.intAttribute(g.node(castNode), "to", 0) == DataType.FLOAT.code()) {
                    cast = true;
                    value = g.node(castNode).getInput(0);
                } else {
                    return Optional.empty();
                }
            }
            axes.sort(null);
            boolean twoD = g.graphInput(value).get().getType().getTensorType().getShape().getDimCount() == 2;
            if (cast && twoD && (axes.equals(List.of(1L, 2L)) || axes.equals(List.of(2L, 1L)))) {
                return Optional.of(new Mask(value, fill.get()));
            }
        }
        return Optional.empty();
    }

    /** The mask as int32, cast once for every attention reading it. */
    private String maskIndex(Rewrite rewrite, String mask) {
        String name = maskIndex.computeIfAbsent(mask, m -> names.fresh(m + "_int32"));
        rewrite.prelude(Nodes.node("Cast", name, List.of(mask), List.of(name),
                Nodes.attr("to", (long) DataType.INT32.code())));
        return name;
    }

    private static TensorProto packWeights(GraphView g, String name, Projection[] projections, int rows, int hidden) {
        float[] packed = new float[rows * 3 * hidden];
        for (int p = 0; p < 3; p++) {
            float[] weight = g.floats(projections[p].weight()).orElseThrow();
            for (int r = 0; r < rows; r++) {
                System.arraycopy(weight, r * hidden, packed, r * 3 * hidden + p * hidden, hidden);
            }
        }
        return Tensors.ofFloats(name, new long[] {rows, 3L * hidden}, packed);
    }

    private static TensorProto packBias(GraphView g, String name, Projection[] projections, int hidden) {
        float[] packed = new float[3 * hidden];
        for (int p = 0; p < 3; p++) {
            System.arraycopy(g.floats(projections[p].bias()).orElseThrow(), 0, packed, p * hidden, hidden);
        }
        return Tensors.ofFloats(name, new long[] {3L * hidden}, packed);
    }

    // ---------------------------------------------------------------- GELU

    /**
     * {@code x · 0.5 · (1 + erf(x / √2))} becomes Gelu, or BiasGelu when x is a bias added to
     * another value and nothing else reads the sum.
     */
    int gelu(GraphView g, Rewrite rewrite) {
        int count = 0;
        for (int n = 0; n < g.graph.getNodeCount(); n++) {
            if (g.node(n).getOpType().equals("Erf") && g.node(n).getDomain().isEmpty()) {
                count += geluAt(g, rewrite, n) ? 1 : 0;
            }
        }
        return count;
    }

    private boolean geluAt(GraphView g, Rewrite rewrite, int erf) {
        String erfInput = g.node(erf).getInput(0);
        int div = g.producer(erfInput, "Div");
        int mulHalf = g.producer(erfInput, "Mul");
        int scale = div >= 0 && near(g, g.node(div).getInput(1), (float) Math.sqrt(2)) ? div
                : mulHalf >= 0 && near(g, g.node(mulHalf).getInput(1), (float) Math.sqrt(0.5)) ? mulHalf : -1;
        if (scale < 0 || !g.onlyReadBy(erfInput, erf)) {
            return false;
        }
        String x = g.node(scale).getInput(0);
        int plusOne = g.onlyReader(g.node(erf).getOutput(0), "Add");
        if (plusOne < 0 || !GraphView.other(g.node(plusOne), g.node(erf).getOutput(0)).map(v -> near(g, v, 1f)).orElse(false)) {
            return false;
        }
        int times = g.onlyReader(g.node(plusOne).getOutput(0), "Mul");
        if (times < 0 || !GraphView.other(g.node(times), g.node(plusOne).getOutput(0)).map(x::equals).orElse(false)) {
            return false;
        }
        int half = g.onlyReader(g.node(times).getOutput(0), "Mul");
        if (half < 0 || !GraphView.other(g.node(half), g.node(times).getOutput(0)).map(v -> near(g, v, 0.5f)).orElse(false)) {
            return false;
        }
        List<Integer> nodes = new ArrayList<>(List.of(scale, erf, plusOne, times));
        List<String> inputs = List.of(x);
        String op = "Gelu";
        int biasAdd = g.producer(x, "Add");
        if (biasAdd >= 0 && g.onlyReadBy(x, scale, times)) {
            Optional<String[]> split = biasSplit(g, g.node(biasAdd));
            if (split.isPresent()) {
                inputs = List.of(split.get()[0], split.get()[1]);
                op = "BiasGelu";
                nodes.add(biasAdd);
            }
        }
        if (!rewrite.free(nodes) || !rewrite.free(List.of(half))) {
            return false;
        }
        String name = g.node(half).getName().isEmpty() ? op : g.node(half).getName() + "_" + op;
        rewrite.fuse(nodes, half, Nodes.node(op, names.fresh(name), inputs, List.of(g.node(half).getOutput(0)))
                .toBuilder().setDomain(MS_DOMAIN).build());
        return true;
    }

    /** {value, bias} of an {@code Add(value, bias)} whose bias is a constant 1-D tensor and value is not constant. */
    private static Optional<String[]> biasSplit(GraphView g, NodeProto add) {
        for (String input : add.getInputList()) {
            String other = GraphView.other(add, input).orElse("");
            if (!g.isConstant(input) && g.dims(other).map(d -> d.length == 1).orElse(false) && g.floats(other).isPresent()) {
                return Optional.of(new String[] {input, other});
            }
        }
        return Optional.empty();
    }

    private static boolean near(GraphView g, String value, float expected) {
        return g.scalar(value).map(v -> Math.abs(v - expected) <= 1e-4f * Math.max(1f, Math.abs(expected))).orElse(false);
    }

    // ---------------------------------------------------------------- embeddings

    /** What the embedding pass fused, and each embedding sum it left as it is with the reason. */
    record EmbedCounts(int fused, Map<String, String> leftAsTheyAre) {
    }

    /**
     * {@code LayerNorm(word[input_ids] + position[0..S-1] (+ token_type[token_type_ids]))} becomes
     * EmbedLayerNormalization: three lookups, the sum and the normalisation in one kernel. A layer
     * norm over a sum of lookups that does not fit that operator exactly is named with the reason and
     * left to the layer-norm pass. The attention mask stays where it is: EmbedLayerNormalization's
     * mask_index output is a count of ones per row, right only for right-padded batches.
     */
    EmbedCounts embedLayerNorm(GraphView g, Rewrite rewrite) {
        int fused = 0;
        Map<String, String> left = new LinkedHashMap<>();
        for (int n = 0; n < g.graph.getNodeCount(); n++) {
            NodeProto node = g.node(n);
            Optional<Norm> norm = !node.getDomain().isEmpty() ? Optional.empty()
                    : node.getOpType().equals("ReduceMean") ? norm(g, n)
                    : node.getOpType().equals("LayerNormalization") ? nativeNorm(g, n) : Optional.empty();
            if (norm.isEmpty()) {
                continue;
            }
            List<Integer> adds = new ArrayList<>();
            Set<Integer> normNodes = new HashSet<>(norm.get().nodes());
            normNodes.add(norm.get().anchor());
            List<String> terms = terms(g, norm.get().x(), normNodes, adds);
            if (terms.stream().noneMatch(t -> g.producer(t, "Gather") >= 0)) {
                continue; // no lookup in the sum: not an embedding layer
            }
            Optional<String> why = embedLayerNormAt(g, rewrite, norm.get(), terms, adds);
            if (why.isEmpty()) {
                fused++;
            } else {
                NodeProto anchor = g.node(norm.get().anchor());
                left.put("embedding layer norm '" + (anchor.getName().isEmpty() ? anchor.getOutput(0) : anchor.getName())
                        + "'", "not fused into EmbedLayerNormalization: " + why.get());
            }
        }
        return new EmbedCounts(fused, left);
    }

    /** The fusion of one normalised sum of lookups, or why it does not fit EmbedLayerNormalization. */
    private Optional<String> embedLayerNormAt(GraphView g, Rewrite rewrite, Norm norm, List<String> terms, List<Integer> adds) {
        if (terms.size() < 2 || terms.size() > 3 || new HashSet<>(terms).size() != terms.size()) {
            return Optional.of("the sum has " + terms.size() + " term(s); EmbedLayerNormalization adds a word, a position "
                    + "and at most one token-type lookup, each once");
        }
        long hidden = g.dims(norm.gamma()).orElseThrow()[0];
        List<Integer> gathers = new ArrayList<>();
        String positions = null;
        int position = -1;
        for (String term : terms) {
            int gather = g.producer(term, "Gather");
            if (gather < 0) {
                int producer = g.producer(term);
                return Optional.of((producer < 0 ? "'" + term + "'" : g.node(producer).getOpType() + " '"
                        + g.node(producer).getName() + "'") + " is part of the sum: only embedding lookups (Gather) fit");
            }
            if (g.isGraphOutput(term) || !adds.containsAll(g.readers(term))) {
                return Optional.of("lookup '" + term + "' is also read outside the sum");
            }
            String table = g.node(gather).getInput(0);
            if (Nodes.intAttribute(g.node(gather), "axis", 0) != 0 || g.floats(table).isEmpty()
                    || !Arrays.equals(g.dims(table).orElseThrow(), new long[] {g.dims(table).get()[0], hidden})) {
                return Optional.of("embedding table '" + table + "' is not a constant float32 [rows, " + hidden
                        + "] matrix looked up by row");
            }
            Optional<String> ids = sequenceOfPositions(g, g.node(gather).getInput(1));
            if (ids.isPresent() && position < 0) {
                position = gather;
                positions = ids.get();
            } else {
                gathers.add(gather);
            }
        }
        if (position < 0) {
            return Optional.of("no lookup by the positions 0..S-1 (a constant 0, 1, 2, ... sliced to the ids' sequence "
                    + "length): other position ids do not fit");
        }
        int word = -1;
        for (int gather : gathers) {
            String ids = g.node(gather).getInput(1);
            Optional<String> problem = idsProblem(g, ids, positions);
            if (problem.isPresent()) {
                return problem;
            }
            word = ids.equals(positions) ? gather : word;
        }
        if (word < 0) {
            return Optional.of("the positions are cut to the length of '" + positions + "', which no lookup reads as ids");
        }
        int segment = gathers.size() > 1 ? gathers.get(gathers.get(0) == word ? 1 : 0) : -1;
        List<Integer> nodes = new ArrayList<>(norm.nodes());
        nodes.addAll(adds);
        nodes.add(position);
        nodes.addAll(gathers);
        if (!rewrite.free(nodes) || !rewrite.free(List.of(norm.anchor()))) {
            return Optional.of("part of it is in another fusion");
        }
        List<String> inputs = List.of(int32(g, rewrite, positions),
                segment < 0 ? "" : int32(g, rewrite, g.node(segment).getInput(1)),
                g.node(word).getInput(0), g.node(position).getInput(0), segment < 0 ? "" : g.node(segment).getInput(0),
                norm.gamma(), norm.beta());
        NodeProto anchor = g.node(norm.anchor());
        String name = anchor.getName().isEmpty() ? "embed_layer_norm" : anchor.getName();
        // ONNX Runtime's shape inference wants the mask_index output named, though nothing reads it
        List<String> outputs = List.of(anchor.getOutput(0), names.fresh(name + "_mask_index"));
        rewrite.fuse(nodes, norm.anchor(), Nodes.node("EmbedLayerNormalization", names.fresh(name + "_embed"), inputs,
                outputs, Nodes.attr("epsilon", norm.epsilon())).toBuilder().setDomain(MS_DOMAIN).build());
        return Optional.empty();
    }

    /**
     * The values an Add tree sums into {@code x}, expanding each Add whose output only {@code readers}
     * read (inner ones: only their parent Add); the Adds go into {@code adds}.
     */
    private static List<String> terms(GraphView g, String x, Set<Integer> readers, List<Integer> adds) {
        int add = g.producer(x, "Add");
        if (add < 0 || g.isGraphOutput(x) || !readers.containsAll(g.readers(x))) {
            return List.of(x);
        }
        adds.add(add);
        List<String> terms = new ArrayList<>();
        for (String input : g.node(add).getInputList()) {
            terms.addAll(terms(g, input, Set.of(add), adds));
        }
        return terms;
    }

    /**
     * The ids input whose sequence length S cuts a constant [1, P] tensor of 0, 1, 2, ... to the
     * positions 0..S-1, as {@code Slice(position_ids, [0], Unsqueeze(Shape(ids)[1]), [1])} does in
     * the Hugging Face exports; empty for any other position ids.
     */
    private static Optional<String> sequenceOfPositions(GraphView g, String indices) {
        int slice = g.producer(indices, "Slice");
        if (slice < 0 || g.node(slice).getInputCount() < 4) {
            return Optional.empty();
        }
        NodeProto node = g.node(slice);
        Optional<long[]> values = g.longs(node.getInput(0));
        long[] dims = g.dims(node.getInput(0)).orElse(new long[0]);
        if (values.isEmpty() || dims.length != 2 || dims[0] != 1) {
            return Optional.empty();
        }
        for (int i = 0; i < values.get().length; i++) {
            if (values.get()[i] != i) {
                return Optional.empty();
            }
        }
        boolean axisOne = g.longs(node.getInput(3)).map(a -> a.length == 1 && (a[0] == 1 || a[0] == -1)).orElse(false);
        boolean stepOne = node.getInputCount() < 5 || node.getInput(4).isEmpty()
                || g.longs(node.getInput(4)).map(s -> s.length == 1 && s[0] == 1).orElse(false);
        if (!axisOne || !stepOne || !g.longs(node.getInput(1)).map(s -> s.length == 1 && s[0] == 0).orElse(false)) {
            return Optional.empty();
        }
        return sequenceLength(g, node.getInput(2));
    }

    /** The rank-2 graph input whose dimension 1 {@code value} is, as a 1-element tensor; empty otherwise. */
    private static Optional<String> sequenceLength(GraphView g, String value) {
        int unsqueeze = g.producer(value, "Unsqueeze");
        int gather = unsqueeze < 0 ? -1 : g.producer(g.node(unsqueeze).getInput(0), "Gather");
        if (gather < 0 || !g.axes(g.node(unsqueeze)).map(a -> a.length == 1 && a[0] == 0).orElse(false)
                || Nodes.intAttribute(g.node(gather), "axis", 0) != 0
                || !g.longs(g.node(gather).getInput(1)).map(i -> i.length == 1 && i[0] == 1).orElse(false)
                || g.dims(g.node(gather).getInput(1)).map(d -> d.length != 0).orElse(true)) {
            return Optional.empty();
        }
        int shape = g.producer(g.node(gather).getInput(0), "Shape");
        if (shape < 0 || g.node(shape).getAttributeCount() > 0) {
            return Optional.empty();
        }
        String ids = g.node(shape).getInput(0);
        return g.graphInput(ids).filter(v -> v.getType().getTensorType().getShape().getDimCount() == 2).map(v -> ids);
    }

    /**
     * Why {@code ids} cannot be EmbedLayerNormalization's input_ids or segment_ids: they must be a
     * graph input of int64 or int32, token types declared with the same shape as the ids the
     * positions follow (the operator takes both as [batch, sequence] and reads no broadcast). Ids
     * outside the table fail in the operator as in Gather; negative ids, which Gather would count
     * from the end, are no token a tokenizer writes.
     */
    private static Optional<String> idsProblem(GraphView g, String ids, String positions) {
        Optional<ValueInfoProto> input = g.graphInput(ids);
        int type = input.map(v -> v.getType().getTensorType().getElemType()).orElse(0);
        if (input.isEmpty() || (type != DataType.INT64.code() && type != DataType.INT32.code())) {
            return Optional.of("lookup ids '" + ids + "' are not a graph input of int64 or int32 ids");
        }
        TensorShapeProto shape = input.get().getType().getTensorType().getShape();
        TensorShapeProto expected = g.graphInput(positions).orElseThrow().getType().getTensorType().getShape();
        boolean known = shape.getDimList().stream().allMatch(d -> d.hasDimParam() || d.hasDimValue());
        if (!ids.equals(positions) && (!known || !shape.equals(expected))) {
            return Optional.of("lookup ids '" + ids + "' are not declared with the shape of '" + positions + "'");
        }
        return Optional.empty();
    }

    /** {@code ids} as int32, which EmbedLayerNormalization reads: cast once when they are int64. */
    private String int32(GraphView g, Rewrite rewrite, String ids) {
        if (g.graphInput(ids).orElseThrow().getType().getTensorType().getElemType() == DataType.INT32.code()) {
            return ids;
        }
        String name = int32.computeIfAbsent(ids, m -> names.fresh(m + "_int32"));
        rewrite.prelude(Nodes.node("Cast", name, List.of(ids), List.of(name), Nodes.attr("to", (long) DataType.INT32.code())));
        return name;
    }

    /** A LayerNormalization node over the last axis with scale and shift, as a {@link Norm}. */
    private static Optional<Norm> nativeNorm(GraphView g, int n) {
        NodeProto node = g.node(n);
        if (node.getInputCount() != 3 || node.getOutputCount() != 1 || Nodes.intAttribute(node, "axis", -1) != -1
                || !oneD(g, node.getInput(1)) || !oneD(g, node.getInput(2))) {
            return Optional.empty();
        }
        return Optional.of(new Norm(List.of(), n, node.getInput(0), node.getInput(1), node.getInput(2),
                Nodes.floatAttribute(node, "epsilon", 1e-5f)));
    }

    // ---------------------------------------------------------------- layer normalisation

    /** What a normalisation pass fused. */
    record NormCounts(int skip, int plain) {
    }

    /**
     * {@code (x - mean(x)) / sqrt(var(x) + ε) · γ + β} over the last axis becomes
     * SkipLayerNormalization when x is a sum of two values nothing else reads (a residual; a
     * constant bias added to one of them goes into the bias input), else LayerNormalization
     * where the opset has it (17 and later).
     */
    NormCounts layerNorm(GraphView g, Rewrite rewrite, long opset) {
        int skip = 0;
        int plain = 0;
        for (int n = 0; n < g.graph.getNodeCount(); n++) {
            if (g.node(n).getOpType().equals("ReduceMean") && g.node(n).getDomain().isEmpty()) {
                String kind = layerNormAt(g, rewrite, n, opset);
                skip += kind.equals("skip") ? 1 : 0;
                plain += kind.equals("plain") ? 1 : 0;
            }
        }
        return new NormCounts(skip, plain);
    }

    private String layerNormAt(GraphView g, Rewrite rewrite, int mean, long opset) {
        Optional<Norm> matched = norm(g, mean);
        if (matched.isEmpty()) {
            return "";
        }
        Norm norm = matched.get();
        String x = norm.x();
        String gamma = norm.gamma();
        String beta = norm.beta();
        float epsilon = norm.epsilon();
        int add = norm.anchor();
        List<Integer> nodes = new ArrayList<>(norm.nodes());
        String output = g.node(add).getOutput(0);
        String name = g.node(add).getName().isEmpty() ? "layer_norm" : g.node(add).getName();
        int residual = g.producer(x, "Add");
        int centre = nodes.get(1); // x - mean(x): with the mean, the only readers of x
        if (residual >= 0 && g.onlyReadBy(x, mean, centre) && !g.isConstant(g.node(residual).getInput(0))
                && !g.isConstant(g.node(residual).getInput(1))) {
            List<String> inputs = new ArrayList<>(List.of(g.node(residual).getInput(0), g.node(residual).getInput(1),
                    gamma, beta));
            nodes.add(residual);
            for (int i = 0; i < 2; i++) {
                int biasAdd = g.producer(inputs.get(i), "Add");
                Optional<String[]> split = biasAdd < 0 || !g.onlyReadBy(inputs.get(i), residual) ? Optional.empty()
                        : biasSplit(g, g.node(biasAdd));
                if (split.isPresent() && g.dims(split.get()[1]).get()[0] == g.dims(gamma).get()[0]) {
                    inputs.set(i, split.get()[0]);
                    inputs.add(split.get()[1]);
                    nodes.add(biasAdd);
                    break;
                }
            }
            if (!rewrite.free(nodes) || !rewrite.free(List.of(add))) {
                return "";
            }
            rewrite.fuse(nodes, add, Nodes.node("SkipLayerNormalization", names.fresh(name + "_skip"), inputs,
                    List.of(output), Nodes.attr("epsilon", epsilon)).toBuilder().setDomain(MS_DOMAIN).build());
            return "skip";
        }
        if (opset < 17 || !rewrite.free(nodes) || !rewrite.free(List.of(add))) {
            return "";
        }
        rewrite.fuse(nodes, add, Nodes.node("LayerNormalization", names.fresh(name + "_fused"), List.of(x, gamma, beta),
                List.of(output), Nodes.attr("axis", -1L), Nodes.attr("epsilon", epsilon)));
        return "plain";
    }

    /** A layer normalisation over the last axis: its nodes, the node writing its output, x, γ, β and ε. */
    private record Norm(List<Integer> nodes, int anchor, String x, String gamma, String beta, float epsilon) {
    }

    /** {@code (x - mean(x)) / sqrt(var(x) + ε) · γ + β} from its first ReduceMean, each intermediate read once. */
    private static Optional<Norm> norm(GraphView g, int mean) {
        if (!lastAxis(g, g.node(mean))) {
            return Optional.empty();
        }
        String x = g.node(mean).getInput(0);
        int sub = g.onlyReader(g.node(mean).getOutput(0), "Sub");
        if (sub < 0 || !g.node(sub).getInput(0).equals(x) || !g.node(sub).getInput(1).equals(g.node(mean).getOutput(0))) {
            return Optional.empty();
        }
        String centred = g.node(sub).getOutput(0);
        int pow = -1;
        int div = -1;
        for (int reader : g.readers(centred)) {
            NodeProto node = g.node(reader);
            if (node.getOpType().equals("Pow") && node.getInput(0).equals(centred) && near(g, node.getInput(1), 2f)) {
                pow = reader;
            } else if (node.getOpType().equals("Div") && node.getInput(0).equals(centred)) {
                div = reader;
            }
        }
        if (pow < 0 || div < 0 || !g.onlyReadBy(centred, pow, div)) {
            return Optional.empty();
        }
        int variance = g.onlyReader(g.node(pow).getOutput(0), "ReduceMean");
        if (variance < 0 || !lastAxis(g, g.node(variance))) {
            return Optional.empty();
        }
        int addEpsilon = g.onlyReader(g.node(variance).getOutput(0), "Add");
        Optional<Float> epsilon = addEpsilon < 0 ? Optional.empty()
                : GraphView.other(g.node(addEpsilon), g.node(variance).getOutput(0)).flatMap(g::scalar);
        if (epsilon.isEmpty()) {
            return Optional.empty();
        }
        int sqrt = g.onlyReader(g.node(addEpsilon).getOutput(0), "Sqrt");
        if (sqrt < 0 || !g.onlyReadBy(g.node(sqrt).getOutput(0), div) || !g.node(div).getInput(1).equals(g.node(sqrt).getOutput(0))) {
            return Optional.empty();
        }
        int mul = g.onlyReader(g.node(div).getOutput(0), "Mul");
        String gamma = mul < 0 ? "" : GraphView.other(g.node(mul), g.node(div).getOutput(0)).orElse("");
        int add = mul < 0 ? -1 : g.onlyReader(g.node(mul).getOutput(0), "Add");
        String beta = add < 0 ? "" : GraphView.other(g.node(add), g.node(mul).getOutput(0)).orElse("");
        if (add < 0 || !oneD(g, gamma) || !oneD(g, beta)) {
            return Optional.empty();
        }
        return Optional.of(new Norm(List.of(mean, sub, pow, variance, addEpsilon, sqrt, div, mul), add, x, gamma, beta,
                epsilon.get()));
    }

    private static boolean lastAxis(GraphView g, NodeProto reduce) {
        return Nodes.intAttribute(reduce, "keepdims", 1) == 1
                && g.axes(reduce).map(a -> a.length == 1 && a[0] == -1).orElse(false);
    }

    private static boolean oneD(GraphView g, String value) {
        return g.floats(value).isPresent() && g.dims(value).map(d -> d.length == 1).orElse(false);
    }
}

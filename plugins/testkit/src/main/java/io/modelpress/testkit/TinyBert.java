package io.modelpress.testkit;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.spi.TensorData;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A small BERT encoder written out op by op the way the PyTorch exporter writes one at opset 11:
 * word + position embeddings (and token-type embeddings when asked), the positions a constant
 * 0, 1, 2, ... sliced to the sequence length, layer norms as ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add,
 * attention as three projections split into heads by Reshape + Transpose, the additive mask
 * {@code (1 - mask) · fill}, erf GELU. Batch and sequence axes are symbolic.
 */
public final class TinyBert {

    public static final int VOCAB = 50;
    public static final float FILL = -3.4028234663852886e38f;

    private final List<NodeProto> nodes = new ArrayList<>();
    private final List<TensorProto> weights = new ArrayList<>();
    private final SplittableRandom random;
    private int counter;

    private TinyBert(long seed) {
        random = new SplittableRandom(seed);
    }

    public static OnnxModel model(int layers, int hidden, int heads, long seed) {
        return new TinyBert(seed).build(layers, hidden, heads, false);
    }

    /** The same with a third input, token_type_ids (0 or 1), whose embeddings join the sum as BERT's do. */
    public static OnnxModel withTokenTypes(int layers, int hidden, int heads, long seed) {
        return new TinyBert(seed).build(layers, hidden, heads, true);
    }

    /** {@link #inputs} and token_type_ids: the first half of each row 0, the rest 1. */
    public static Map<String, TensorData> inputsWithTokenTypes(SplittableRandom random, int batch, int length) {
        Map<String, TensorData> inputs = inputs(random, batch, length);
        long[] types = new long[batch * length];
        for (int i = 0; i < types.length; i++) {
            types[i] = i % length < length / 2 ? 0 : 1;
        }
        inputs.put("token_type_ids", TensorData.ofLongs(new long[] {batch, length}, types));
        return inputs;
    }

    /** Token ids and a right-padded mask: every sample keeps at least one token. */
    public static Map<String, TensorData> inputs(SplittableRandom random, int batch, int length) {
        long[] ids = new long[batch * length];
        long[] mask = new long[batch * length];
        for (int b = 0; b < batch; b++) {
            int kept = 1 + random.nextInt(length);
            for (int t = 0; t < length; t++) {
                ids[b * length + t] = random.nextInt(VOCAB);
                mask[b * length + t] = t < kept ? 1 : 0;
            }
        }
        Map<String, TensorData> inputs = new HashMap<>();
        inputs.put("input_ids", TensorData.ofLongs(new long[] {batch, length}, ids));
        inputs.put("attention_mask", TensorData.ofLongs(new long[] {batch, length}, mask));
        return inputs;
    }

    private OnnxModel build(int layers, int hidden, int heads, boolean tokenTypes) {
        String word = op("Gather", weight("word_embeddings", 0.5f, VOCAB, hidden), "input_ids");
        if (tokenTypes) {
            word = op("Add", word, op("Gather", weight("token_type_embeddings", 0.5f, 2, hidden), "token_type_ids"));
        }
        String seqLen = op("Gather", op("Shape", "input_ids"), constLong("one", 1), Nodes.attr("axis", 0L));
        String positions = op("Slice", positionIds(), constLongs("start", 0), op("Unsqueeze", seqLen,
                Nodes.attr("axes", new long[] {0})), constLongs("axis1", 1));
        String position = op("Gather", weight("position_embeddings", 0.5f, 64, hidden), positions);
        String x = layerNorm(op("Add", word, position), hidden);
        String mask = op("Mul", op("Sub", constFloat("one_f", 1f), op("Cast", op("Unsqueeze", op("Unsqueeze", "attention_mask",
                Nodes.attr("axes", new long[] {1})), Nodes.attr("axes", new long[] {2})), Nodes.attr("to", (long) DataType.FLOAT.code()))),
                constFloat("fill", FILL));
        for (int l = 0; l < layers; l++) {
            String attention = attention(x, mask, hidden, heads);
            x = layerNorm(op("Add", linear(attention, hidden, hidden), x), hidden);
            String up = linear(x, hidden, 4 * hidden);
            String erf = op("Erf", op("Div", up, constFloat("sqrt2", 1.4142135f)));
            String gelu = op("Mul", op("Mul", up, op("Add", erf, constFloat("one_f", 1f))), constFloat("half", 0.5f));
            x = layerNorm(op("Add", linear(gelu, 4 * hidden, hidden), x), hidden);
        }
        nodes.add(Nodes.node("Identity", "out", List.of(x), List.of("last_hidden_state")));
        GraphProto.Builder graph = GraphProto.newBuilder().setName("tiny_bert").addAllNode(nodes).addAllInitializer(weights)
                .addInput(Nodes.tensorValue("input_ids", DataType.INT64, "batch_size", "sequence_length"))
                .addInput(Nodes.tensorValue("attention_mask", DataType.INT64, "batch_size", "sequence_length"))
                .addOutput(Nodes.tensorValue("last_hidden_state", DataType.FLOAT, "batch_size", "sequence_length", hidden));
        if (tokenTypes) {
            graph.addInput(Nodes.tensorValue("token_type_ids", DataType.INT64, "batch_size", "sequence_length"));
        }
        return OnnxModel.of(ModelProto.newBuilder().setIrVersion(7).setProducerName("tiny-bert")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(11)).setGraph(graph).build());
    }

    private String attention(String x, String mask, int hidden, int heads) {
        long[] split = {0, 0, heads, hidden / heads};
        // the query's split shape and the merge shape computed from Shape nodes, as the exporter writes them
        String qProjection = linear(x, hidden, hidden);
        String qShape = op("Concat", List.of(dim(qProjection, 0), dim(qProjection, 1), constLongs("heads", heads),
                constLongs("head_size", hidden / heads)), Nodes.attr("axis", 0L));
        String q = op("Transpose", op("Reshape", qProjection, qShape), Nodes.attr("perm", new long[] {0, 2, 1, 3}));
        String k = op("Transpose", op("Reshape", linear(x, hidden, hidden), constLongs("split", split)),
                Nodes.attr("perm", new long[] {0, 2, 3, 1}));
        String v = op("Transpose", op("Reshape", linear(x, hidden, hidden), constLongs("split", split)),
                Nodes.attr("perm", new long[] {0, 2, 1, 3}));
        String scores = op("Add", op("Div", op("MatMul", q, k), constFloat("scale", (float) Math.sqrt(hidden / heads))), mask);
        String context = op("MatMul", op("Softmax", scores, Nodes.attr("axis", 3L)), v);
        String merged = op("Transpose", context, Nodes.attr("perm", new long[] {0, 2, 1, 3}));
        return op("Reshape", merged, op("Concat", List.of(dim(merged, 0), dim(merged, 1), constLongs("hidden", hidden)),
                Nodes.attr("axis", 0L)));
    }

    /** {@code Unsqueeze(Gather(Shape(value), axis))}: one dimension as a 1-element tensor. */
    private String dim(String value, long axis) {
        return op("Unsqueeze", op("Gather", op("Shape", value), constLong("axis", axis), Nodes.attr("axis", 0L)),
                Nodes.attr("axes", new long[] {0}));
    }

    private String linear(String x, int in, int out) {
        return op("Add", weight("bias", 0.1f, out), op("MatMul", x, weight("weight", (float) (1 / Math.sqrt(in)), in, out)));
    }

    private String layerNorm(String x, int hidden) {
        String centred = op("Sub", x, op("ReduceMean", x, Nodes.attr("axes", new long[] {-1})));
        String variance = op("ReduceMean", op("Pow", centred, constFloat("two", 2f)), Nodes.attr("axes", new long[] {-1}));
        String normed = op("Div", centred, op("Sqrt", op("Add", variance, constFloat("eps", 1e-12f))));
        float[] gamma = new float[hidden];
        for (int i = 0; i < hidden; i++) {
            gamma[i] = (float) random.nextDouble(0.5, 1.5);
        }
        String gammaName = "gamma" + counter++;
        weights.add(Tensors.ofFloats(gammaName, new long[] {hidden}, gamma));
        return op("Add", op("Mul", normed, gammaName), weight("beta", 0.1f, hidden));
    }

    private String positionIds() {
        long[] ids = new long[64];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i;
        }
        String name = "position_ids" + counter++;
        weights.add(Tensors.ofInt64(name, new long[] {1, 64}, ids));
        return name;
    }

    private String op(String type, String... inputsAndAttributes) {
        return op(type, List.of(inputsAndAttributes));
    }

    private String op(String type, String a, AttributeProto attribute) {
        return add(type, List.of(a), attribute);
    }

    private String op(String type, String a, String b, AttributeProto attribute) {
        return add(type, List.of(a, b), attribute);
    }

    private String op(String type, List<String> inputs) {
        return add(type, inputs, null);
    }

    private String op(String type, List<String> inputs, AttributeProto attribute) {
        return add(type, inputs, attribute);
    }

    private String add(String type, List<String> inputs, AttributeProto attribute) {
        String output = type.toLowerCase() + "_" + counter++;
        NodeProto node = Nodes.node(type, output + "_node", inputs, List.of(output));
        nodes.add(attribute == null ? node : node.toBuilder().addAttribute(attribute).build());
        return output;
    }

    /** Constants as Constant nodes, as the exporter writes them. */
    private String constFloat(String base, float value) {
        String output = base + "_" + counter++;
        nodes.add(Nodes.node("Constant", output + "_node", List.of(), List.of(output),
                Nodes.attr("value", Tensors.scalarFloat("", value))));
        return output;
    }

    private String constLong(String base, long value) {
        String output = base + "_" + counter++;
        nodes.add(Nodes.node("Constant", output + "_node", List.of(), List.of(output),
                Nodes.attr("value", Tensors.scalarInt64("", value))));
        return output;
    }

    private String constLongs(String base, long... values) {
        String output = base + "_" + counter++;
        nodes.add(Nodes.node("Constant", output + "_node", List.of(), List.of(output),
                Nodes.attr("value", Tensors.ofInt64("", new long[] {values.length}, values))));
        return output;
    }

    private String weight(String base, float scale, int... dims) {
        int n = 1;
        long[] shape = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            n *= dims[i];
            shape[i] = dims[i];
        }
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextGaussian() * scale);
        }
        String name = base + "_" + counter++;
        weights.add(Tensors.ofFloats(name, shape, values));
        return name;
    }
}

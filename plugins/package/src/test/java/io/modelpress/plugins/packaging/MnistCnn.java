package io.modelpress.plugins.packaging;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.inference.OrtRunner;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.Mnist;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.TestModels;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** A BatchNorm CNN for MNIST images, built untrained, and how to count and measure it. */
final class MnistCnn {

    static final String INPUT = "image";
    private static final int[] CHANNELS = {16, 32, 64};
    /** Output side of each Conv: 28, then halved by the MaxPool after the first two blocks. */
    private static final int[] SIDES = {28, 14, 7};

    private MnistCnn() {
    }

    /** He-uniform weights; BatchNorm scale 1, shift 0, mean 0, variance 1. */
    static OnnxModel untrained(SplittableRandom random) {
        GraphProto.Builder graph = GraphProto.newBuilder().setName("mnist_bn_cnn")
                .addInput(Nodes.tensorValue(INPUT, DataType.FLOAT, "batch", 1, 28, 28))
                .addOutput(Nodes.tensorValue("scores", DataType.FLOAT, "batch", 10));
        String x = INPUT;
        int in = 1;
        for (int b = 0; b < CHANNELS.length; b++) {
            int out = CHANNELS[b];
            String p = "b" + b;
            graph.addInitializer(he(p + "_w", random, in * 9, (long) out, in, 3, 3));
            graph.addInitializer(filled(p + "_scale", out, 1f)).addInitializer(filled(p + "_shift", out, 0f))
                    .addInitializer(filled(p + "_mean", out, 0f)).addInitializer(filled(p + "_var", out, 1f));
            graph.addNode(Nodes.node("Conv", p + "_conv", List.of(x, p + "_w"), List.of(p + "_c"),
                    Nodes.attr("kernel_shape", new long[] {3, 3}), Nodes.attr("pads", new long[] {1, 1, 1, 1})));
            graph.addNode(Nodes.node("BatchNormalization", p + "_bn",
                    List.of(p + "_c", p + "_scale", p + "_shift", p + "_mean", p + "_var"), List.of(p + "_n")));
            graph.addNode(Nodes.node("Relu", p + "_relu", List.of(p + "_n"), List.of(p + "_r")));
            x = p + "_r";
            if (b < 2) {
                graph.addNode(Nodes.node("MaxPool", p + "_pool", List.of(x), List.of(p + "_p"),
                        Nodes.attr("kernel_shape", new long[] {2, 2}), Nodes.attr("strides", new long[] {2, 2})));
                x = p + "_p";
            }
            in = out;
        }
        graph.addInitializer(he("fc_w", random, in, 10, in)).addInitializer(filled("fc_b", 10, 0f))
                .addNode(Nodes.node("GlobalAveragePool", "gap", List.of(x), List.of("g")))
                .addNode(Nodes.node("Flatten", "flat", List.of("g"), List.of("f")))
                .addNode(Nodes.node("Gemm", "fc", List.of("f", "fc_w", "fc_b"), List.of("scores"),
                        Nodes.attr("transB", 1L)));
        return TestModels.model(graph.build());
    }

    /** Multiply-adds per image of the Convs and the Gemm, from their weights' shapes. */
    static long multiplyAdds(OnnxModel model) {
        long total = 0;
        int conv = 0;
        for (NodeProto node : model.proto().getGraph().getNodeList()) {
            if (node.getOpType().equals("Conv") || node.getOpType().equals("Gemm")) {
                long[] dims = Tensors.dims(weight(model, node.getInput(1)));
                long perPosition = 1;
                for (long dim : dims) {
                    perPosition *= dim;
                }
                long side = node.getOpType().equals("Conv") ? SIDES[conv++] : 1;
                total += perPosition * side * side;
            }
        }
        return total;
    }

    /** Top-1 on the held-out digits [8000, 10000) in ONNX Runtime. */
    static double accuracy(OnnxModel model) {
        Mnist digits = Mnist.load();
        int correct = 0;
        try (OrtRunner runner = OrtRunner.open(model)) {
            for (int start = MnistModels.TRAIN; start < 10_000; start += 500) {
                int end = Math.min(10_000, start + 500);
                float[] scores = runner.run(Map.of(INPUT, TensorData.ofFloats(new long[] {end - start, 1, 28, 28},
                        digits.images(start, end)))).values().iterator().next().toFloats();
                for (int i = 0; i < end - start; i++) {
                    int best = 0;
                    for (int c = 1; c < 10; c++) {
                        best = scores[i * 10 + c] > scores[i * 10 + best] ? c : best;
                    }
                    correct += best == digits.label(start + i) ? 1 : 0;
                }
            }
        }
        return correct / 2000.0;
    }

    private static TensorProto weight(OnnxModel model, String name) {
        return model.proto().getGraph().getInitializerList().stream().filter(t -> t.getName().equals(name))
                .findFirst().orElseThrow();
    }

    private static TensorProto he(String name, SplittableRandom random, int fanIn, long... dims) {
        double bound = Math.sqrt(6.0 / fanIn);
        long count = 1;
        for (long dim : dims) {
            count *= dim;
        }
        float[] values = new float[Math.toIntExact(count)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
        }
        return Tensors.ofFloats(name, dims, values);
    }

    private static TensorProto filled(String name, int count, float value) {
        float[] values = new float[count];
        java.util.Arrays.fill(values, value);
        return Tensors.ofFloats(name, new long[] {count}, values);
    }
}

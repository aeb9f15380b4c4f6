package io.modelpress.plugins.distillation;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.inference.OrtRunner;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.Mnist;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.TestModels;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * MNIST teachers and digits in the shapes the tests need: the shipped MLP, the same network as a
 * CNN image classifier, and digits as flat rows or as [N, 1, 28, 28] images, with or without labels.
 */
final class MnistTeachers {

    static final long[] IMAGE = {1, 28, 28};
    static final long[] FLAT = {Mnist.PIXELS};

    private MnistTeachers() {
    }

    /**
     * The shipped MLP as a CNN on {@code pixels f32[batch, 1, 28, 28]}: its first dense layer becomes a
     * Conv whose 28x28 kernel covers the whole image (the same sums), then Flatten and the remaining
     * Gemm layers. It classifies exactly as the MLP does, so its accuracy is known.
     */
    static OnnxModel cnn() {
        GraphProto mlp = MnistModels.mlp().proto().getGraph();
        NodeProto first = mlp.getNode(0);
        TensorProto weight = initializer(mlp, first.getInput(1));
        long in = weight.getDims(0);
        long out = weight.getDims(1);
        float[] dense = Tensors.toFloats(weight);
        float[] kernel = new float[dense.length];
        for (int i = 0; i < in; i++) {
            for (int o = 0; o < out; o++) {
                kernel[(int) (o * in + i)] = dense[(int) (i * out + o)];
            }
        }
        GraphProto.Builder graph = mlp.toBuilder().setName("mnist_cnn").clearInput().clearNode()
                .addInput(Nodes.tensorValue("pixels", DataType.FLOAT, "batch", 1, 28, 28))
                .addInitializer(Tensors.ofFloats("conv.weight", new long[] {out, 1, 28, 28}, kernel))
                .addNode(Nodes.node("Conv", "conv", List.of("pixels", "conv.weight", first.getInput(2)),
                        List.of("conv"), Nodes.attr("kernel_shape", new long[] {28, 28})))
                .addNode(Nodes.node("Flatten", "flatten", List.of("conv"), List.of(first.getOutput(0)),
                        Nodes.attr("axis", 1L)));
        graph.addAllNode(mlp.getNodeList().subList(1, mlp.getNodeCount()));
        for (int i = 0; i < graph.getInitializerCount(); i++) {
            if (graph.getInitializer(i).getName().equals(weight.getName())) {
                graph.removeInitializer(i);
                break;
            }
        }
        return TestModels.model(graph.build());
    }

    /** Digits {@code [from, to)} in samples of {@code batch} rows of {@code rowShape}, labelled or not. */
    static CalibrationData digits(int from, int to, int batch, long[] rowShape, boolean labelled) {
        Mnist digits = Mnist.load();
        List<Map<String, TensorData>> samples = new ArrayList<>();
        List<TensorData> labels = new ArrayList<>();
        for (int start = from; start < to; start += batch) {
            int end = Math.min(to, start + batch);
            samples.add(Map.of("pixels", TensorData.ofFloats(shape(end - start, rowShape), digits.images(start, end))));
            long[] classes = new long[end - start];
            for (int i = start; i < end; i++) {
                classes[i - start] = digits.label(i);
            }
            labels.add(TensorData.ofLongs(new long[] {end - start}, classes));
        }
        return labelled ? CalibrationData.of(samples, labels) : CalibrationData.of(samples);
    }

    /** Top-1 accuracy in ONNX Runtime of a digit classifier on digits {@code [from, to)} shaped as {@code rowShape}. */
    static double accuracy(OnnxModel model, int from, int to, long[] rowShape) {
        Mnist digits = Mnist.load();
        try (OrtRunner runner = OrtRunner.open(model)) {
            String input = runner.inputNames().get(0);
            TensorData images = TensorData.ofFloats(shape(to - from, rowShape), digits.images(from, to));
            float[] scores = runner.run(Map.of(input, images)).values().iterator().next().toFloats();
            int correct = 0;
            for (int i = 0; i < to - from; i++) {
                int predicted = StudentTrainer.argMax(scores, i * Mnist.CLASSES, Mnist.CLASSES);
                correct += predicted == digits.label(from + i) ? 1 : 0;
            }
            return (double) correct / (to - from);
        }
    }

    private static long[] shape(int rows, long[] rowShape) {
        long[] shape = new long[rowShape.length + 1];
        shape[0] = rows;
        System.arraycopy(rowShape, 0, shape, 1, rowShape.length);
        return shape;
    }

    private static TensorProto initializer(GraphProto graph, String name) {
        return graph.getInitializerList().stream().filter(t -> t.getName().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no initializer " + name));
    }
}

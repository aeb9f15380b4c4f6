package io.modelpress.testkit;

import ai.onnx.proto.OnnxMl.GraphProto;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.SaveOptions;
import io.modelpress.model.Tensors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Trains the MNIST classifier the test kit ships ({@link MnistModels#mlp()}): a 784-256-128-10
 * MLP of Gemm and Relu nodes, fitted with mini-batch SGD and momentum on the first
 * {@link MnistModels#TRAIN} digits. Deterministic for a seed; run {@link #main} to regenerate
 * the fixture.
 */
public final class MnistTrainer {

    private final int[] sizes;
    private final float[][] weights;
    private final float[][] biases;
    private final float[][] weightVelocity;
    private final float[][] biasVelocity;

    public MnistTrainer(int[] sizes, long seed) {
        this.sizes = sizes.clone();
        int layers = sizes.length - 1;
        weights = new float[layers][];
        biases = new float[layers][];
        weightVelocity = new float[layers][];
        biasVelocity = new float[layers][];
        SplittableRandom random = new SplittableRandom(seed);
        for (int l = 0; l < layers; l++) {
            int in = sizes[l];
            int out = sizes[l + 1];
            weights[l] = new float[in * out];
            double scale = Math.sqrt(2.0 / in); // He initialisation for Relu layers
            for (int i = 0; i < weights[l].length; i++) {
                weights[l][i] = (float) (gaussian(random) * scale);
            }
            biases[l] = new float[out];
            weightVelocity[l] = new float[in * out];
            biasVelocity[l] = new float[out];
        }
    }

    /** Fits on digits {@code [0, count)} for {@code epochs} passes. */
    public void train(Mnist digits, int count, int epochs, int batch, float learningRate, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] order = IntStream.range(0, count).toArray();
        for (int epoch = 0; epoch < epochs; epoch++) {
            for (int i = order.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            float rate = learningRate * (epoch < epochs - 1 ? 1f : 0.3f);
            for (int start = 0; start + batch <= count; start += batch) {
                step(digits, order, start, batch, rate);
            }
        }
    }

    private void step(Mnist digits, int[] order, int start, int batch, float rate) {
        int layers = weights.length;
        float[][] activations = new float[layers + 1][];
        activations[0] = new float[batch * sizes[0]];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(digits.pixels(), order[start + b] * Mnist.PIXELS, activations[0], b * sizes[0], sizes[0]);
        }
        for (int l = 0; l < layers; l++) {
            activations[l + 1] = forward(activations[l], batch, l, l < layers - 1);
        }
        float[] delta = softmaxGradient(activations[layers], digits, order, start, batch);
        for (int l = layers - 1; l >= 0; l--) {
            int in = sizes[l];
            int out = sizes[l + 1];
            float[] weightGradient = new float[in * out];
            float[] biasGradient = new float[out];
            float[] input = activations[l];
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < in; i++) {
                    float x = input[b * in + i];
                    if (x == 0) {
                        continue;
                    }
                    int row = i * out;
                    for (int o = 0; o < out; o++) {
                        weightGradient[row + o] += x * delta[b * out + o];
                    }
                }
                for (int o = 0; o < out; o++) {
                    biasGradient[o] += delta[b * out + o];
                }
            }
            float[] previous = null;
            if (l > 0) {
                previous = new float[batch * in];
                float[] w = weights[l];
                for (int b = 0; b < batch; b++) {
                    for (int i = 0; i < in; i++) {
                        if (input[b * in + i] <= 0) {
                            continue; // Relu passes no gradient where it was off
                        }
                        float sum = 0;
                        int row = i * out;
                        for (int o = 0; o < out; o++) {
                            sum += w[row + o] * delta[b * out + o];
                        }
                        previous[b * in + i] = sum;
                    }
                }
            }
            update(weights[l], weightVelocity[l], weightGradient, rate / batch);
            update(biases[l], biasVelocity[l], biasGradient, rate / batch);
            delta = previous;
        }
    }

    private float[] forward(float[] input, int batch, int layer, boolean relu) {
        int in = sizes[layer];
        int out = sizes[layer + 1];
        float[] w = weights[layer];
        float[] output = new float[batch * out];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(biases[layer], 0, output, b * out, out);
            for (int i = 0; i < in; i++) {
                float x = input[b * in + i];
                if (x == 0) {
                    continue;
                }
                int row = i * out;
                for (int o = 0; o < out; o++) {
                    output[b * out + o] += x * w[row + o];
                }
            }
            if (relu) {
                for (int o = 0; o < out; o++) {
                    output[b * out + o] = Math.max(0, output[b * out + o]);
                }
            }
        }
        return output;
    }

    private static float[] softmaxGradient(float[] logits, Mnist digits, int[] order, int start, int batch) {
        int classes = Mnist.CLASSES;
        float[] delta = new float[batch * classes];
        for (int b = 0; b < batch; b++) {
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                max = Math.max(max, logits[b * classes + c]);
            }
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                sum += Math.exp(logits[b * classes + c] - max);
            }
            int label = digits.label(order[start + b]);
            for (int c = 0; c < classes; c++) {
                double p = Math.exp(logits[b * classes + c] - max) / sum;
                delta[b * classes + c] = (float) (p - (c == label ? 1 : 0));
            }
        }
        return delta;
    }

    private static void update(float[] values, float[] velocity, float[] gradient, float rate) {
        for (int i = 0; i < values.length; i++) {
            velocity[i] = 0.9f * velocity[i] - rate * gradient[i];
            values[i] += velocity[i];
        }
    }

    /** The network as ONNX: input {@code pixels} f32[batch, 784], output {@code logits} f32[batch, 10]. */
    public OnnxModel toModel() {
        GraphProto.Builder graph = GraphProto.newBuilder().setName("mnist_mlp")
                .addInput(Nodes.tensorValue("pixels", DataType.FLOAT, "batch", sizes[0]))
                .addOutput(Nodes.tensorValue("logits", DataType.FLOAT, "batch", sizes[sizes.length - 1]));
        String input = "pixels";
        for (int l = 0; l < weights.length; l++) {
            String w = "fc" + (l + 1) + ".weight";
            String b = "fc" + (l + 1) + ".bias";
            boolean last = l == weights.length - 1;
            String output = last ? "logits" : "fc" + (l + 1);
            graph.addInitializer(Tensors.ofFloats(w, new long[] {sizes[l], sizes[l + 1]}, weights[l].clone()));
            graph.addInitializer(Tensors.ofFloats(b, new long[] {sizes[l + 1]}, biases[l].clone()));
            graph.addNode(Nodes.node("Gemm", "fc" + (l + 1), List.of(input, w, b), List.of(output)));
            if (!last) {
                graph.addNode(Nodes.node("Relu", "relu" + (l + 1), List.of(output), List.of(output + ".relu")));
                input = output + ".relu";
            }
        }
        return TestModels.model(graph.build());
    }

    private static double gaussian(SplittableRandom random) {
        double u = 1.0 - random.nextDouble();
        double v = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    /** Regenerates the shipped fixture: {@code MnistTrainer OUTPUT.onnx}. */
    public static void main(String[] args) {
        Mnist digits = Mnist.load();
        MnistTrainer trainer = new MnistTrainer(new int[] {Mnist.PIXELS, 256, 128, Mnist.CLASSES}, 7);
        long started = System.nanoTime();
        trainer.train(digits, MnistModels.TRAIN, 8, 32, 0.05f, 11);
        OnnxModel model = trainer.toModel();
        model.save(Path.of(args[0]), SaveOptions.inline());
        List<String> lines = new ArrayList<>();
        lines.add("trained in " + (System.nanoTime() - started) / 1_000_000 + " ms");
        lines.add("held-out top-1 accuracy: " + MnistModels.accuracy(model, MnistModels.TRAIN, digits.count()));
        lines.forEach(System.out::println);
    }
}

package io.modelpress.testkit;

import io.modelpress.inference.OrtRunner;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.TensorData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The MNIST classifier the test kit ships, and how to measure a model on the digits. Digits
 * {@code [0, TRAIN)} trained it; {@code [TRAIN, 10000)} are held out for evaluation.
 */
public final class MnistModels {

    /** Digits used for training; the rest are held out. */
    public static final int TRAIN = 8000;

    private MnistModels() {
    }

    /** The trained 784-256-128-10 MLP (see {@link MnistTrainer}); 96.4% top-1 on the 2,000 held-out digits. */
    public static OnnxModel mlp() {
        Path folder = Path.of(System.getProperty("java.io.tmpdir"), "modelpress-testkit-" + ProcessHandle.current().pid());
        return OnnxModel.load(copy(folder));
    }

    /** Copies the model file to {@code folder}; returns its path. */
    public static Path copy(Path folder) {
        try (var in = MnistModels.class.getResourceAsStream("models/mnist-mlp.onnx")) {
            if (in == null) {
                throw new IllegalStateException("mnist-mlp.onnx is missing from the test kit");
            }
            java.nio.file.Files.createDirectories(folder);
            Path target = folder.resolve("mnist-mlp.onnx");
            java.nio.file.Files.copy(in, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Top-1 accuracy of a model with input f32[batch, 784] and 10 scores on digits {@code [from, to)}. */
    public static double accuracy(OnnxModel model, int from, int to) {
        Mnist digits = Mnist.load();
        int[] top = predictions(model, from, to);
        int correct = 0;
        for (int i = 0; i < top.length; i++) {
            correct += top[i] == digits.label(from + i) ? 1 : 0;
        }
        return (double) correct / (to - from);
    }

    /** How often two such models give the same top class on digits {@code [from, to)}, as ONNX Runtime runs them. */
    public static double agreement(OnnxModel first, OnnxModel second, int from, int to) {
        int[] a = predictions(first, from, to);
        int[] b = predictions(second, from, to);
        int same = 0;
        for (int i = 0; i < a.length; i++) {
            same += a[i] == b[i] ? 1 : 0;
        }
        return (double) same / a.length;
    }

    /** The top class of such a model for each of digits {@code [from, to)}, in ONNX Runtime. */
    public static int[] predictions(OnnxModel model, int from, int to) {
        Mnist digits = Mnist.load();
        int[] top = new int[to - from];
        try (OrtRunner runner = OrtRunner.open(model)) {
            String input = runner.inputNames().get(0);
            int batch = 500;
            for (int start = from; start < to; start += batch) {
                int end = Math.min(to, start + batch);
                TensorData images = TensorData.ofFloats(new long[] {end - start, Mnist.PIXELS}, digits.images(start, end));
                float[] scores = runner.run(Map.of(input, images)).values().iterator().next().toFloats();
                for (int i = 0; i < end - start; i++) {
                    int best = 0;
                    for (int c = 1; c < Mnist.CLASSES; c++) {
                        if (scores[i * Mnist.CLASSES + c] > scores[i * Mnist.CLASSES + best]) {
                            best = c;
                        }
                    }
                    top[start - from + i] = best;
                }
            }
        }
        return top;
    }

    /** Digits {@code [from, to)} as labelled samples of {@code batch} images each, for input {@code inputName}. */
    public static CalibrationData calibration(String inputName, int from, int to, int batch) {
        Mnist digits = Mnist.load();
        List<Map<String, TensorData>> samples = new ArrayList<>();
        List<TensorData> labels = new ArrayList<>();
        for (int start = from; start < to; start += batch) {
            int end = Math.min(to, start + batch);
            samples.add(Map.of(inputName, TensorData.ofFloats(new long[] {end - start, Mnist.PIXELS},
                    digits.images(start, end))));
            long[] classes = new long[end - start];
            for (int i = start; i < end; i++) {
                classes[i - start] = digits.label(i);
            }
            labels.add(TensorData.ofLongs(new long[] {end - start}, classes));
        }
        return CalibrationData.of(samples, labels);
    }
}

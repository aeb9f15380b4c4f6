package io.modelpress.cli;

import io.modelpress.engine.data.NpzWriter;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.RealInputs;
import io.modelpress.testkit.RealModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes calibration data for bench/planner.sh: realistic inputs for the real models whose every
 * input has its examples along axis 0 (images, feature frames), and the MNIST sample's digits. The
 * recurrent models take a state and a scalar sample rate, which .npz examples cannot carry; they
 * are measured on generated inputs.
 */
public final class PlannerBenchData {

    private static final int SAMPLES = 32;

    private PlannerBenchData() {
    }

    public static void main(String[] args) throws IOException {
        Path folder = Path.of(args[0]);
        Files.createDirectories(folder);
        for (RealModels model : List.of(RealModels.WAKEWORD, RealModels.OCR_DETECTOR, RealModels.OCR_RECOGNIZER,
                RealModels.OCR_CLASSIFIER)) {
            write(folder.resolve(model.fileName().replace(".onnx", ".npz")), model);
        }
        DemoSample mnist = DemoSample.write(folder.resolve("mnist"));
        Files.move(mnist.calibration(), folder.resolve("mnist-mlp.npz"));
        Files.move(mnist.evaluation(), folder.resolve("mnist-mlp.evaluation.npz"));
    }

    /** {@link #SAMPLES} examples of batch 1 stacked along axis 0, per input. */
    private static void write(Path file, RealModels model) throws IOException {
        List<Map<String, TensorData>> examples = new ArrayList<>();
        for (int seed = 1; seed <= SAMPLES; seed++) {
            examples.add(RealInputs.of(model, seed));
        }
        try (NpzWriter out = new NpzWriter(file)) {
            for (String input : examples.get(0).keySet()) {
                long[] shape = examples.get(0).get(input).shape();
                float[] stacked = new float[Math.toIntExact(SAMPLES * examples.get(0).get(input).elementCount())];
                int at = 0;
                for (Map<String, TensorData> example : examples) {
                    float[] values = example.get(input).toFloats();
                    System.arraycopy(values, 0, stacked, at, values.length);
                    at += values.length;
                }
                shape[0] = SAMPLES;
                out.floats(input, shape, stacked);
            }
        }
    }
}

package io.modelpress.cli;

import io.modelpress.engine.data.NpzWriter;
import io.modelpress.model.DataType;
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
 * Writes calibration data for bench/planner.sh: realistic inputs for the real models (feature
 * frames, images, voiced audio with a recurrent state and a sample rate), one whole input per
 * example, and the MNIST sample's digits.
 */
public final class PlannerBenchData {

    private static final int SAMPLES = 32;

    private PlannerBenchData() {
    }

    public static void main(String[] args) throws IOException {
        Path folder = Path.of(args[0]);
        Files.createDirectories(folder);
        for (RealModels model : RealModels.values()) {
            write(folder.resolve(model.fileName().replace(".onnx", ".npz")), model);
        }
        DemoSample mnist = DemoSample.write(folder.resolve("mnist"));
        Files.move(mnist.calibration(), folder.resolve("mnist-mlp.npz"));
        Files.move(mnist.evaluation(), folder.resolve("mnist-mlp.evaluation.npz"));
    }

    /** {@link #SAMPLES} examples, each input as [SAMPLES, *its shape]: one whole input per example. */
    private static void write(Path file, RealModels model) throws IOException {
        List<Map<String, TensorData>> examples = new ArrayList<>();
        for (int seed = 1; seed <= SAMPLES; seed++) {
            examples.add(RealInputs.of(model, seed));
        }
        try (NpzWriter out = new NpzWriter(file)) {
            for (String input : examples.get(0).keySet()) {
                TensorData first = examples.get(0).get(input);
                long[] shape = new long[first.shape().length + 1];
                shape[0] = SAMPLES;
                System.arraycopy(first.shape(), 0, shape, 1, first.shape().length);
                int size = Math.toIntExact(first.elementCount());
                if (first.type() == DataType.INT64) {
                    long[] stacked = new long[SAMPLES * size];
                    for (int e = 0; e < SAMPLES; e++) {
                        examples.get(e).get(input).data().asLongBuffer().get(stacked, e * size, size);
                    }
                    out.longs(input, shape, stacked);
                } else {
                    float[] stacked = new float[SAMPLES * size];
                    for (int e = 0; e < SAMPLES; e++) {
                        System.arraycopy(examples.get(e).get(input).toFloats(), 0, stacked, e * size, size);
                    }
                    out.floats(input, shape, stacked);
                }
            }
        }
    }
}

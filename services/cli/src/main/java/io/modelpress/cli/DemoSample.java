package io.modelpress.cli;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.modelpress.engine.data.NpzData;
import io.modelpress.engine.data.NpzWriter;
import io.modelpress.model.OnnxModel;
import io.modelpress.testkit.Mnist;
import io.modelpress.testkit.MnistModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The demo's sample: the test kit's MNIST classifier, with digits it was trained on as calibration
 * data and the held-out digits, labelled, as evaluation data, so that results show accuracy.
 *
 * @param model the .onnx file
 * @param calibration an .npz of inputs only
 * @param evaluation an .npz of inputs and labels
 * @param examples how many labelled digits the evaluation holds
 */
record DemoSample(Path model, Path calibration, Path evaluation, int examples) {

    /** Calibration takes this many of the training digits; plugins and fidelity need no more. */
    static final int CALIBRATION_DIGITS = 512;

    static DemoSample write(Path folder) throws IOException {
        Files.createDirectories(folder);
        Path model = MnistModels.copy(folder);
        String input = firstInput(OnnxModel.load(model).proto().getGraph());
        Mnist digits = Mnist.load();
        Path calibration = folder.resolve("calibration.npz");
        try (NpzWriter out = new NpzWriter(calibration)) {
            out.floats(input, new long[] {CALIBRATION_DIGITS, Mnist.PIXELS}, digits.images(0, CALIBRATION_DIGITS));
        }
        int from = MnistModels.TRAIN;
        int to = digits.count();
        long[] labels = new long[to - from];
        for (int i = from; i < to; i++) {
            labels[i - from] = digits.label(i);
        }
        Path evaluation = folder.resolve("evaluation.npz");
        try (NpzWriter out = new NpzWriter(evaluation)) {
            out.floats(input, new long[] {to - from, Mnist.PIXELS}, digits.images(from, to));
            out.longs(NpzData.LABELS, new long[] {to - from}, labels);
        }
        return new DemoSample(model, calibration, evaluation, to - from);
    }

    /** The graph's first real input (initializers listed as inputs by older exporters are not inputs). */
    private static String firstInput(GraphProto graph) {
        Set<String> weights = graph.getInitializerList().stream().map(TensorProto::getName).collect(Collectors.toSet());
        return graph.getInputList().stream().map(ValueInfoProto::getName).filter(name -> !weights.contains(name))
                .findFirst().orElseThrow(() -> new IllegalStateException("the sample model declares no input"));
    }
}

package io.modelpress.plugins.pruning;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.ModelRunner;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.TensorData;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The root mean square of every channel of some activations, measured on calibration data: how much a channel
 * carries into the layers that read it. The activations are made graph outputs of a copy of the model, which the
 * host runs.
 */
final class ChannelActivations {

    /** Samples measured; a channel's figure settles long before. */
    static final int SAMPLES = 16;

    private final Map<String, double[]> rms;

    private ChannelActivations(Map<String, double[]> rms) {
        this.rms = rms;
    }

    /**
     * Measures {@code activations} (tensor name to channel axis counted from the end) on the first samples of
     * {@code data}.
     */
    static ChannelActivations measure(OnnxModel model, Map<String, Integer> activations, CalibrationData data,
            PluginContext context) throws PluginException {
        GraphProto graph = model.proto().getGraph();
        Set<String> outputs = new HashSet<>();
        graph.getOutputList().forEach(output -> outputs.add(output.getName()));
        GraphProto.Builder probe = graph.toBuilder();
        for (String name : activations.keySet()) {
            if (!outputs.contains(name)) {
                probe.addOutput(ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                        .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE))));
            }
        }
        OnnxModel probed = model.withProto(model.proto().toBuilder().setGraph(probe).build());
        Map<String, double[]> sums = new HashMap<>(); // of squares
        Map<String, Long> counts = new HashMap<>();
        int samples = Math.min(SAMPLES, data.size());
        try (ModelRunner runner = context.runner(probed)) {
            for (int s = 0; s < samples; s++) {
                context.checkCancelled();
                Map<String, TensorData> out = runner.run(data.sample(s));
                activations.forEach((name, fromEnd) -> accumulate(out.get(name), fromEnd, name, sums, counts));
            }
        } catch (RuntimeException e) {
            throw new PluginException("cannot measure channel activations on the calibration data: " + e.getMessage(), e);
        }
        Map<String, double[]> rms = new HashMap<>();
        sums.forEach((name, sum) -> {
            double[] root = sum.clone();
            for (int c = 0; c < root.length; c++) {
                root[c] = Math.sqrt(root[c] / counts.get(name));
            }
            rms.put(name, root);
        });
        return new ChannelActivations(rms);
    }

    /** Root mean square per channel of {@code tensor}. */
    double[] rms(String tensor) {
        double[] root = rms.get(tensor);
        if (root == null) {
            throw new IllegalStateException("activation '" + tensor + "' was not measured");
        }
        return root;
    }

    private static void accumulate(TensorData tensor, int fromEnd, String name, Map<String, double[]> sums,
            Map<String, Long> counts) {
        long[] shape = tensor.shape();
        int axis = shape.length - 1 - fromEnd;
        int channels = (int) shape[axis];
        long inner = 1;
        for (int d = axis + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        float[] values = tensor.toFloats();
        double[] sum = sums.computeIfAbsent(name, k -> new double[channels]);
        int block = Math.toIntExact(inner);
        for (int start = 0; start < values.length; start += block * channels) {
            for (int c = 0; c < channels; c++) {
                double total = 0;
                int from = start + c * block;
                for (int i = from; i < from + block; i++) {
                    total += (double) values[i] * values[i];
                }
                sum[c] += total;
            }
        }
        counts.merge(name, values.length / (long) channels, Long::sum);
    }
}

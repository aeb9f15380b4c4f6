package io.modelpress.plugins.quantization;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.modelpress.model.DataType;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.ModelRunner;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.TensorData;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Ranges of activations over calibration data. The model is run with the activations exposed as
 * extra outputs; min-max takes the extremes, percentile clips each tail at a share of the values,
 * entropy picks the clipping threshold whose quantized histogram loses least information
 * (Kullback-Leibler divergence, as TensorRT's calibrator does).
 */
final class Calibrator {

    enum Method {
        MINMAX,
        PERCENTILE,
        ENTROPY
    }

    private static final int BINS = 2048;
    private static final int LEVELS = 128;

    private Calibrator() {
    }

    /** A model that also outputs {@code names}, each a float tensor of the main graph. */
    static OnnxModel exposing(OnnxModel model, Collection<String> names) {
        GraphProto graph = model.proto().getGraph();
        Set<String> outputs = new HashSet<>();
        graph.getOutputList().forEach(v -> outputs.add(v.getName()));
        GraphProto.Builder builder = graph.toBuilder();
        for (String name : names) {
            if (outputs.add(name)) {
                builder.addOutput(ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                        .setTensorType(TypeProto.Tensor.newBuilder().setElemType(DataType.FLOAT.code()))));
            }
        }
        return model.withProto(model.proto().toBuilder().setGraph(builder).build());
    }

    /** {lo, hi} per name. */
    static Map<String, float[]> ranges(OnnxModel model, Collection<String> names, CalibrationData data, Method method,
            double percentile, PluginContext context) {
        Map<String, float[]> minMax = new LinkedHashMap<>();
        Map<String, long[]> histograms = new LinkedHashMap<>();
        if (names.isEmpty()) {
            return minMax;
        }
        try (ModelRunner runner = context.runner(exposing(model, names))) {
            for (int s = 0; s < data.size(); s++) {
                context.checkCancelled();
                context.progress(0.1 + 0.2 * s / data.size(), "calibrating on sample " + (s + 1) + " of " + data.size());
                Map<String, TensorData> outputs = runner.run(data.sample(s));
                for (String name : names) {
                    float[] values = floats(outputs.get(name));
                    if (values == null) {
                        continue;
                    }
                    float[] range = Quantizer.range(values);
                    minMax.merge(name, range, (a, b) -> new float[] {Math.min(a[0], b[0]), Math.max(a[1], b[1])});
                }
            }
            if (method == Method.MINMAX) {
                return minMax;
            }
            for (int s = 0; s < data.size(); s++) {
                context.checkCancelled();
                Map<String, TensorData> outputs = runner.run(data.sample(s));
                for (Map.Entry<String, float[]> entry : minMax.entrySet()) {
                    float[] values = floats(outputs.get(entry.getKey()));
                    if (values != null) {
                        accumulate(histograms.computeIfAbsent(entry.getKey(), k -> new long[BINS]), values,
                                absMax(entry.getValue()));
                    }
                }
            }
        }
        Map<String, float[]> ranges = new LinkedHashMap<>();
        minMax.forEach((name, range) -> {
            long[] histogram = histograms.get(name);
            float limit = absMax(range);
            if (histogram == null || limit == 0f) {
                ranges.put(name, range);
                return;
            }
            float threshold = method == Method.PERCENTILE ? percentileThreshold(histogram, limit, percentile)
                    : entropyThreshold(histogram, limit);
            ranges.put(name, new float[] {Math.max(range[0], -threshold), Math.min(range[1], threshold)});
        });
        return ranges;
    }

    private static float[] floats(TensorData tensor) {
        return tensor == null || tensor.type() != DataType.FLOAT ? null : tensor.toFloats();
    }

    private static float absMax(float[] range) {
        return Math.max(Math.abs(range[0]), Math.abs(range[1]));
    }

    /** Histogram of |x| over [0, limit]. */
    private static void accumulate(long[] histogram, float[] values, float limit) {
        if (limit == 0f) {
            return;
        }
        float perBin = BINS / limit;
        for (float v : values) {
            int bin = (int) (Math.abs(v) * perBin);
            histogram[Math.min(bin, BINS - 1)]++;
        }
    }

    /** The magnitude below which {@code percentile} percent of the values lie. */
    static float percentileThreshold(long[] histogram, float limit, double percentile) {
        long total = 0;
        for (long count : histogram) {
            total += count;
        }
        long wanted = (long) Math.ceil(total * percentile / 100.0);
        long seen = 0;
        for (int bin = 0; bin < histogram.length; bin++) {
            seen += histogram[bin];
            if (seen >= wanted) {
                return limit * (bin + 1) / histogram.length;
            }
        }
        return limit;
    }

    /** The clipping threshold with the least KL divergence between clipped and quantized histograms. */
    static float entropyThreshold(long[] histogram, float limit) {
        int bins = histogram.length;
        double best = Double.POSITIVE_INFINITY;
        int bestEnd = bins;
        for (int end = LEVELS; end <= bins; end += LEVELS / 8) {
            double[] reference = new double[end];
            for (int i = 0; i < end; i++) {
                reference[i] = histogram[i];
            }
            double outliers = 0;
            for (int i = end; i < bins; i++) {
                outliers += histogram[i];
            }
            reference[end - 1] += outliers;
            // quantize the first `end` bins onto LEVELS levels, spreading each level over its non-empty bins
            double[] candidate = new double[end];
            double per = (double) end / LEVELS;
            for (int level = 0; level < LEVELS; level++) {
                int from = (int) Math.floor(level * per);
                int to = level == LEVELS - 1 ? end : (int) Math.floor((level + 1) * per);
                double sum = 0;
                int nonEmpty = 0;
                for (int i = from; i < to; i++) {
                    sum += histogram[i];
                    if (histogram[i] > 0) {
                        nonEmpty++;
                    }
                }
                for (int i = from; i < to; i++) {
                    candidate[i] = histogram[i] > 0 ? sum / nonEmpty : 0;
                }
            }
            double divergence = divergence(reference, candidate);
            if (divergence < best) {
                best = divergence;
                bestEnd = end;
            }
        }
        return limit * bestEnd / bins;
    }

    private static double divergence(double[] p, double[] q) {
        double sumP = 0;
        double sumQ = 0;
        for (int i = 0; i < p.length; i++) {
            sumP += p[i];
            sumQ += q[i];
        }
        if (sumP == 0 || sumQ == 0) {
            return Double.POSITIVE_INFINITY;
        }
        double kl = 0;
        for (int i = 0; i < p.length; i++) {
            if (p[i] == 0) {
                continue;
            }
            double pi = p[i] / sumP;
            double qi = q[i] / sumQ;
            kl += qi == 0 ? pi * 20 : pi * Math.log(pi / qi); // a level that lost a seen value costs much
        }
        return kl;
    }
}

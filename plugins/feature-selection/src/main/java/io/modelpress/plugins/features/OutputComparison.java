package io.modelpress.plugins.features;

import io.modelpress.model.DataType;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.ModelRunner;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.TensorData;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Measures, on the calibration data, how far a model with a smaller input strays from the
 * original: the original's outputs are computed once, each candidate runs on the same rows with
 * only the kept features. Every float output is compared row by row along its last axis.
 */
final class OutputComparison {

    /**
     * How close a candidate stays.
     *
     * @param meanCosine mean cosine similarity of output rows, the worst output's
     * @param top1Agreement share of rows whose largest score is the same, the worst score output's (1 when none)
     * @param rows rows compared
     */
    record Measure(double meanCosine, double top1Agreement, long rows) {

        /** The fidelity lost: the larger of 1 − mean cosine and 1 − top-1 agreement. */
        double loss() {
            return Math.max(1 - meanCosine, 1 - top1Agreement);
        }
    }

    private final FeatureLayer layer;
    private final CalibrationData data;
    private final PluginContext context;
    private final List<Map<String, float[]>> expected = new ArrayList<>();

    private OutputComparison(FeatureLayer layer, CalibrationData data, PluginContext context) {
        this.layer = layer;
        this.data = data;
        this.context = context;
    }

    /** Runs the original model on every calibration sample. */
    static OutputComparison of(OnnxModel original, FeatureLayer layer, CalibrationData data, PluginContext context)
            throws PluginException {
        OutputComparison comparison = new OutputComparison(layer, data, context);
        try (ModelRunner runner = context.runner(original)) {
            for (int s = 0; s < data.size(); s++) {
                context.checkCancelled();
                comparison.expected.add(floatOutputs(runner.run(data.sample(s))));
            }
        }
        if (comparison.expected.get(0).isEmpty()) {
            throw new PluginException("the model has no float32 output to measure the effect of removing features on");
        }
        return comparison;
    }

    /** How close {@code candidate}, whose feature input holds only {@code kept}, stays to the original. */
    Measure measure(OnnxModel candidate, int[] kept) throws PluginException {
        Map<String, double[]> cosines = new LinkedHashMap<>(); // per output: sum of cosines, rows
        Map<String, double[]> agreements = new LinkedHashMap<>(); // per score output: rows agreeing, rows
        try (ModelRunner runner = context.runner(candidate)) {
            for (int s = 0; s < data.size(); s++) {
                context.checkCancelled();
                Map<String, TensorData> inputs = new HashMap<>(data.sample(s));
                float[] rows = FeatureScores.featureRows(data, s, layer);
                int count = rows.length / layer.features();
                inputs.put(layer.input(), TensorData.ofFloats(new long[] {count, kept.length}, select(rows, count, kept)));
                Map<String, TensorData> outputs = runner.run(inputs);
                for (Map.Entry<String, float[]> want : expected.get(s).entrySet()) {
                    TensorData got = outputs.get(want.getKey());
                    compare(want.getKey(), want.getValue(), got.toFloats(), got.shape(), cosines, agreements);
                }
            }
        }
        double worstCosine = 1;
        long rows = 0;
        for (double[] sums : cosines.values()) {
            worstCosine = Math.min(worstCosine, sums[0] / sums[1]);
            rows = (long) sums[1];
        }
        double worstAgreement = 1;
        for (double[] sums : agreements.values()) {
            worstAgreement = Math.min(worstAgreement, sums[0] / sums[1]);
        }
        return new Measure(worstCosine, worstAgreement, rows);
    }

    /** Columns {@code kept} of a rows × F matrix. */
    static float[] select(float[] rows, int count, int[] kept) {
        int features = rows.length / Math.max(1, count);
        float[] out = new float[count * kept.length];
        for (int r = 0; r < count; r++) {
            int from = r * features;
            int to = r * kept.length;
            for (int i = 0; i < kept.length; i++) {
                out[to + i] = rows[from + kept[i]];
            }
        }
        return out;
    }

    private static void compare(String name, float[] want, float[] got, long[] shape, Map<String, double[]> cosines,
            Map<String, double[]> agreements) {
        int width = shape.length == 0 ? 1 : Math.max(1, Math.toIntExact(shape[shape.length - 1]));
        int rows = want.length / width;
        double[] cosine = cosines.computeIfAbsent(name, k -> new double[2]);
        boolean scores = shape.length >= 2 && width > 1;
        double[] agreement = scores ? agreements.computeIfAbsent(name, k -> new double[2]) : null;
        for (int r = 0; r < rows; r++) {
            int base = r * width;
            double dot = 0;
            double a = 0;
            double b = 0;
            int bestWant = 0;
            int bestGot = 0;
            for (int c = 0; c < width; c++) {
                double x = want[base + c];
                double y = got[base + c];
                dot += x * y;
                a += x * x;
                b += y * y;
                bestWant = want[base + c] > want[base + bestWant] ? c : bestWant;
                bestGot = got[base + c] > got[base + bestGot] ? c : bestGot;
            }
            cosine[0] += a == 0 && b == 0 ? 1 : a == 0 || b == 0 ? 0 : dot / Math.sqrt(a * b);
            cosine[1]++;
            if (scores) {
                agreement[0] += bestWant == bestGot ? 1 : 0;
                agreement[1]++;
            }
        }
    }

    private static Map<String, float[]> floatOutputs(Map<String, TensorData> outputs) {
        Map<String, float[]> floats = new LinkedHashMap<>();
        outputs.forEach((name, value) -> {
            if (value.type() == DataType.FLOAT) {
                floats.put(name, value.toFloats());
            }
        });
        return floats;
    }
}

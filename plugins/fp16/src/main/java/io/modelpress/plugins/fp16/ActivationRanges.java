package io.modelpress.plugins.fp16;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.modelpress.model.DataType;
import io.modelpress.model.GraphPath;
import io.modelpress.model.OnnxModel;
import io.modelpress.plugins.fp16.ModelAnalysis.NodeInfo;
import io.modelpress.plugins.fp16.ModelAnalysis.Origin;
import io.modelpress.plugins.fp16.ModelAnalysis.ValueKey;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.ModelRunner;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.TensorData;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Largest magnitudes of the float32 values the main graph computes, measured by running the
 * original model on the calibration data with every such value exposed as an output. A value
 * beyond float16's range would become infinity in half, so the plan keeps its producer and its
 * readers in float32. Weights are checked apart, without data ({@link WeightConverter#scan}).
 */
final class ActivationRanges {

    /** Samples run at most: ranges settle quickly, and each run returns every intermediate value. */
    static final int MAX_SAMPLES = 16;

    /** What was measured: float32 values beyond the half type's range, with their largest magnitude. */
    record Peaks(Map<ValueKey, Float> overflowing, int samples, int values) {
        static final Peaks NONE = new Peaks(Map.of(), 0, 0);
    }

    private ActivationRanges() {
    }

    static Peaks measure(OnnxModel model, ModelAnalysis analysis, HalfType type, PluginContext context)
            throws PluginException {
        if (type.maxFinite() >= Float.MAX_VALUE || context.calibrationData().isEmpty()) {
            return Peaks.NONE;
        }
        CalibrationData data = context.calibrationData().get();
        Map<String, ValueKey> probed = probedValues(model.proto().getGraph(), analysis);
        if (probed.isEmpty()) {
            return Peaks.NONE;
        }
        OnnxModel probe = model.withProto(withOutputs(model.proto(), probed.keySet()));
        int samples = Math.min(MAX_SAMPLES, data.size());
        Map<String, Float> peaks = new HashMap<>();
        try (ModelRunner runner = context.runner(probe)) {
            for (int s = 0; s < samples; s++) {
                context.checkCancelled();
                context.progress(0.25 + 0.05 * s / samples, "measuring activation ranges (sample " + (s + 1) + " of "
                        + samples + ")");
                Map<String, TensorData> outputs = run(runner, data, s);
                for (String name : probed.keySet()) {
                    TensorData value = outputs.get(name);
                    if (value != null && value.type() == DataType.FLOAT) {
                        peaks.merge(name, maxFiniteMagnitude(value), Math::max);
                    }
                }
            }
        }
        Map<ValueKey, Float> overflowing = new LinkedHashMap<>();
        probed.forEach((name, key) -> {
            Float peak = peaks.get(name);
            if (peak != null && peak > type.maxFinite()) {
                overflowing.put(key, peak);
            }
        });
        return new Peaks(Map.copyOf(overflowing), samples, probed.size());
    }

    private static Map<String, TensorData> run(ModelRunner runner, CalibrationData data, int sample)
            throws PluginException {
        try {
            return runner.run(data.sample(sample));
        } catch (RuntimeException e) {
            throw new PluginException("calibration sample " + sample + " does not fit the model: "
                    + firstLine(e.getMessage()), e);
        }
    }

    /** float32 values that main-graph nodes compute from the inputs (constants cannot overflow at run time). */
    private static Map<String, ValueKey> probedValues(GraphProto graph, ModelAnalysis analysis) {
        Map<String, ValueKey> probed = new LinkedHashMap<>();
        Set<String> outputs = new HashSet<>();
        graph.getOutputList().forEach(output -> outputs.add(output.getName()));
        for (NodeInfo node : analysis.graph(GraphPath.MAIN).nodes()) {
            if (node.isStatic) {
                continue;
            }
            for (ValueKey key : node.outputs) {
                if (key != null && analysis.isFloat(key) && analysis.origin(key) == Origin.NODE) {
                    probed.put(key.name(), key);
                }
            }
        }
        return probed;
    }

    private static ModelProto withOutputs(ModelProto model, Set<String> names) {
        Set<String> existing = new HashSet<>();
        model.getGraph().getOutputList().forEach(output -> existing.add(output.getName()));
        GraphProto.Builder graph = model.getGraph().toBuilder();
        TypeProto floatTensor = TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(DataType.FLOAT.code())).build();
        for (String name : names) {
            if (!existing.contains(name)) {
                graph.addOutput(ValueInfoProto.newBuilder().setName(name).setType(floatTensor));
            }
        }
        return model.toBuilder().setGraph(graph).build();
    }

    private static float maxFiniteMagnitude(TensorData tensor) {
        FloatBuffer values = tensor.data().asFloatBuffer();
        float max = 0;
        for (int i = 0, n = values.limit(); i < n; i++) {
            float magnitude = Math.abs(values.get(i));
            if (magnitude > max && magnitude != Float.POSITIVE_INFINITY) {
                max = magnitude;
            }
        }
        return max;
    }

    private static String firstLine(String message) {
        return message == null ? "no reason given" : message.strip().lines().findFirst().orElse("no reason given");
    }
}

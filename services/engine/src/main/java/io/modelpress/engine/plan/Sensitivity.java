package io.modelpress.engine.plan;

import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.engine.ProgressListener;
import io.modelpress.inference.Fidelity;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.model.DataType;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.spi.TensorData;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Which layers to leave alone: each weight in turn is degraded the way a technique would degrade
 * it (rounded to int8 or int4, or half of it pruned), the rest of the model kept exact, and the
 * effect on the outputs measured on data. A layer whose degradation costs much fidelity is one to
 * exclude from that technique.
 */
public final class Sensitivity {

    /** How a weight is degraded. */
    public enum Mode {
        /** Symmetric per-output-channel int8, rounded and restored to float. */
        INT8(127),
        /** Symmetric per-output-channel int4. */
        INT4(7),
        /** The half of the weights smallest in magnitude set to zero. */
        PRUNE_HALF(0);

        private final int levels;

        Mode(int levels) {
            this.levels = levels;
        }

        public static Mode parse(String text) {
            return switch (text.toLowerCase(Locale.ROOT)) {
                case "int8" -> INT8;
                case "int4" -> INT4;
                case "prune" -> PRUNE_HALF;
                default -> throw new IllegalArgumentException("unknown sensitivity mode '" + text + "'; valid: int8, int4, prune");
            };
        }
    }

    /**
     * One weight's effect.
     *
     * @param weight the weight (graph-qualified when in a subgraph)
     * @param readers the operators that read it
     * @param elements its size
     * @param meanCosine worst output's mean cosine with only this weight degraded
     * @param drop lost fidelity: worst output's 1 - top-1 agreement for scores, 1 - cosine otherwise
     */
    public record Layer(String weight, List<String> readers, long elements, double meanCosine, double drop) {
    }

    /** Smallest weight analysed: smaller ones cost little to keep exact. */
    static final int MIN_ELEMENTS = 1024;

    private Sensitivity() {
    }

    /** The float weights of at least 1,024 elements, most sensitive first. */
    public static List<Layer> analyze(OnnxModel model, Mode mode, List<Map<String, TensorData>> samples,
            ProgressListener listener) {
        List<Weight> weights = model.weights().all().stream()
                .filter(weight -> weight.type() == DataType.FLOAT && weight.elements() >= MIN_ELEMENTS && !weight.uses().isEmpty())
                .toList();
        List<Layer> layers = new ArrayList<>();
        try (OrtRunner original = OrtRunner.open(model)) {
            for (int i = 0; i < weights.size(); i++) {
                Weight weight = weights.get(i);
                listener.progress("sensitivity", (double) i / weights.size(), weight.ref().toString());
                TensorProto degraded = degrade(model.weights().tensor(weight.ref()), mode);
                OnnxModel changed = model.withProto(io.modelpress.model.WeightIndex.replace(model.proto(),
                        Map.of(weight.ref(), degraded)));
                try (OrtRunner runner = OrtRunner.open(changed)) {
                    List<OutputFidelity> fidelity = Fidelity.compare(original, runner, samples);
                    double cosine = fidelity.stream().mapToDouble(OutputFidelity::meanCosine).min().orElse(1);
                    double drop = fidelity.stream().mapToDouble(output -> output.top1Agreement().isPresent()
                            ? 1 - output.top1Agreement().getAsDouble() : 1 - output.meanCosine()).max().orElse(0);
                    layers.add(new Layer(weight.ref().toString(), weight.uses().stream()
                            .map(use -> use.opType() + (use.nodeName().isEmpty() ? "" : " " + use.nodeName())).distinct().toList(),
                            weight.elements(), cosine, Math.max(0, drop)));
                }
            }
        }
        listener.progress("sensitivity", 1, "");
        layers.sort(Comparator.comparingDouble(Layer::drop).reversed().thenComparing(Layer::meanCosine));
        return layers;
    }

    static TensorProto degrade(TensorProto tensor, Mode mode) {
        float[] values = Tensors.toFloats(tensor);
        long[] dims = Tensors.dims(tensor);
        if (mode == Mode.PRUNE_HALF) {
            float[] magnitudes = new float[values.length];
            for (int i = 0; i < values.length; i++) {
                magnitudes[i] = Math.abs(values[i]);
            }
            Arrays.sort(magnitudes);
            float median = magnitudes[magnitudes.length / 2];
            for (int i = 0; i < values.length; i++) {
                if (Math.abs(values[i]) < median) {
                    values[i] = 0;
                }
            }
        } else {
            // Channels along the first axis (Conv's output channels; a MatMul's rows are a
            // stricter grouping than its columns, so this errs on the side of more sensitivity).
            int channels = dims.length > 1 ? (int) dims[0] : 1;
            int perChannel = values.length / channels;
            for (int c = 0; c < channels; c++) {
                float max = 0;
                for (int i = c * perChannel; i < (c + 1) * perChannel; i++) {
                    max = Math.max(max, Math.abs(values[i]));
                }
                float scale = max == 0 ? 1 : max / mode.levels;
                for (int i = c * perChannel; i < (c + 1) * perChannel; i++) {
                    values[i] = Math.round(values[i] / scale) * scale;
                }
            }
        }
        return Tensors.ofFloats(tensor.getName(), dims, values);
    }
}

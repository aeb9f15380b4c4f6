package io.modelpress.plugins.quantization;

import io.modelpress.inference.Fidelity;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.QuantizedFormat;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.RealModels;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/** One plugin on one real model: the result and its fidelity on held-out realistic inputs. */
record RealModelRun(RealModels real, String plugin, OnnxModel original, PluginResult result, List<OutputFidelity> fidelity) {

    static RealModelRun of(RealModels real, Path folder, CompressionPlugin plugin, Map<String, String> options,
            QuantizedFormat format) throws PluginException {
        OnnxModel original = OnnxModel.load(real.copyTo(folder));
        CalibrationData calibration = CalibrationData.of(Inputs.samples(real, 8, 1));
        PluginResult result = plugin.apply(original, PluginOptions.resolve(plugin.options(), options),
                Models.context(format).withCalibration(calibration));
        List<Map<String, TensorData>> held = Inputs.samples(real, 6, 99);
        try (OrtRunner before = OrtRunner.open(original); OrtRunner after = OrtRunner.open(result.model())) {
            return new RealModelRun(real, plugin.id(), original, result, Fidelity.compare(before, after, held));
        }
    }

    /**
     * The int8-dynamic options each model is tested with. The text detector's probability map and
     * the VAD's recurrent state are the outputs that int8 everywhere moves most: for them the
     * automatic mode keeps the layers that cost most in float, measured on the calibration inputs
     * (the held-out inputs fidelity is measured on are others).
     */
    static Map<String, String> int8Options(RealModels real) {
        return switch (real) {
            case OCR_DETECTOR -> Map.of("fidelity-target", "0.9993");
            case SILERO_VAD_V5 -> Map.of("fidelity-target", "0.995");
            default -> Map.of();
        };
    }

    double sizeRatio() {
        return (double) original.serializedSize() / result.model().serializedSize();
    }

    /** The output int8 moved most: lowest mean cosine. */
    OutputFidelity worst() {
        return fidelity.stream().min(Comparator.comparingDouble(OutputFidelity::meanCosine)).orElseThrow();
    }
}

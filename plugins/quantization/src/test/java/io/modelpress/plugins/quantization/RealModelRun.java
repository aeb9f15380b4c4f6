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
import java.util.List;
import java.util.Map;

/** One plugin on one real model: the result and its fidelity on held-out realistic inputs. */
record RealModelRun(RealModels real, String plugin, OnnxModel original, PluginResult result, List<OutputFidelity> fidelity) {

    static RealModelRun of(RealModels real, Path folder, CompressionPlugin plugin, Map<String, String> options,
            QuantizedFormat format) throws PluginException {
        OnnxModel original = OnnxModel.load(real.copyTo(folder));
        CalibrationData calibration = CalibrationData.of(Inputs.samples(real, 8, 1));
        PluginResult result = plugin.apply(original, PluginOptions.resolve(plugin.options(), options),
                TestContext.of(format, calibration));
        List<Map<String, TensorData>> held = Inputs.samples(real, 6, 99);
        try (OrtRunner before = OrtRunner.open(original); OrtRunner after = OrtRunner.open(result.model())) {
            return new RealModelRun(real, plugin.id(), original, result, Fidelity.compare(before, after, held));
        }
    }

    double sizeRatio() {
        return (double) original.serializedSize() / result.model().serializedSize();
    }

    /** The first output: the scores, probabilities or map each of these models exists for. */
    OutputFidelity main() {
        return fidelity.get(0);
    }

    double worstCosine() {
        return fidelity.stream().mapToDouble(OutputFidelity::meanCosine).min().orElse(0);
    }
}

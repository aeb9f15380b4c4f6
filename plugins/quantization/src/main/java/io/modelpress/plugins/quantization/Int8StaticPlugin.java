package io.modelpress.plugins.quantization;

import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.OptionSpec;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.PluginSpi;
import io.modelpress.spi.Precision;
import io.modelpress.spi.Technique;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Static int8 in QDQ form: weights and activations, activation ranges calibrated on supplied data. */
public final class Int8StaticPlugin implements CompressionPlugin {

    static final String CALIBRATION = "calibration";
    static final String PERCENTILE = "percentile";

    @Override
    public String id() {
        return "int8-static";
    }

    @Override
    public String version() {
        return "1.1.0";
    }

    @Override
    public int spiVersion() {
        return PluginSpi.VERSION;
    }

    @Override
    public Technique technique() {
        return Technique.QUANTIZATION;
    }

    @Override
    public String description() {
        return "int8 weights and activations (QDQ) for Conv, MatMul and Gemm, ranges calibrated on supplied data";
    }

    @Override
    public List<OptionSpec> options() {
        List<OptionSpec> options = new ArrayList<>(Pipeline.commonOptions(true));
        options.add(OptionSpec.choice(CALIBRATION, "percentile", List.of("minmax", "percentile", "entropy"),
                "how activation ranges are chosen from calibration data"));
        options.add(OptionSpec.number(PERCENTILE, 99.999, 90, 100,
                "for percentile calibration: share of activation magnitudes the range keeps, in percent"));
        return options;
    }

    @Override
    public Set<Precision> requiredPrecisions() {
        return Set.of(Precision.INT8);
    }

    @Override
    public PluginResult apply(OnnxModel input, PluginOptions options, PluginContext context) throws PluginException {
        Optional<PluginResult> quantized = Pipeline.nothingToDo(input);
        if (quantized.isPresent()) {
            return quantized.get(); // before asking for calibration data it would not use
        }
        OnnxModel model = input;
        CalibrationData data = context.calibrationData().orElseThrow(() -> new PluginException(
                "int8-static needs calibration data (representative inputs) to choose activation ranges, and none was "
                        + "supplied; supply some, or use int8-dynamic"));
        CalibrationCheck.check(model, data);
        String upgrade = null;
        int opset = Writer.defaultOpset(model);
        if (opset < OpsetUpgrade.TARGET) {
            Optional<String> obstacle = OpsetUpgrade.obstacle(model.proto());
            if (obstacle.isEmpty()) {
                model = model.withProto(OpsetUpgrade.toOpset10(model.proto()));
                upgrade = "default opset raised from " + opset + " to " + OpsetUpgrade.TARGET
                        + " (Slice bounds moved to inputs) so that ONNX Runtime can fuse the QDQ groups into integer kernels";
            } else {
                upgrade = "activations stay float: integer kernels need opset " + OpsetUpgrade.TARGET + ", and the model's opset "
                        + opset + " cannot be raised because " + obstacle.get();
            }
        }
        boolean activations = opset >= OpsetUpgrade.TARGET || upgrade.startsWith("default opset raised");
        Calibrator.Method method = Calibrator.Method.valueOf(options.text(CALIBRATION).toUpperCase(Locale.ROOT));
        double percentile = options.number(PERCENTILE);
        PluginResult result = Pipeline.run(model, options, context, true, (m, weights) -> {
            List<StaticScheme.Target> targets = activations ? StaticScheme.targets(m, weights) : List.of();
            Map<String, float[]> ranges = Calibrator.ranges(m, StaticScheme.activations(m, targets), data, method,
                    percentile, context);
            return new StaticScheme(ranges);
        });
        boolean nothing = result.figures().getOrDefault("weights-quantized", 0.0) == 0;
        if (upgrade == null) {
            return result;
        }
        PluginResult.Builder noted = PluginResult.builder(nothing ? input : result.model());
        if (!nothing) {
            noted.change(upgrade);
        }
        result.changes().forEach(noted::change);
        result.skipped().forEach(s -> noted.skipped(s.part(), s.reason()));
        result.figures().forEach(noted::figure);
        return noted.build();
    }
}

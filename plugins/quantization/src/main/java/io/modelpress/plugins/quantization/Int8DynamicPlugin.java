package io.modelpress.plugins.quantization;

import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.OptionSpec;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.PluginSpi;
import io.modelpress.spi.Precision;
import io.modelpress.spi.QuantizedFormat;
import io.modelpress.spi.Technique;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * int8 weights, activations quantized at run time: MatMul/Gemm in operator form (MatMulInteger)
 * or every weight through DequantizeLinear (QDQ), as the profile prefers.
 */
public final class Int8DynamicPlugin implements CompressionPlugin {

    static final String FORMAT = "format";

    @Override
    public String id() {
        return "int8-dynamic";
    }

    @Override
    public String version() {
        return "1.0.0";
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
        return "int8 weights of MatMul/Gemm, embeddings, kernels and recurrent layers; activations quantized at run time";
    }

    @Override
    public List<OptionSpec> options() {
        List<OptionSpec> options = new ArrayList<>(Pipeline.commonOptions(true));
        options.add(OptionSpec.choice(FORMAT, "auto", List.of("auto", "qdq", "operator"),
                "operator: MatMulInteger with DynamicQuantizeLinear; qdq: DequantizeLinear on weights; auto: the profile's"));
        return options;
    }

    @Override
    public Set<Precision> requiredPrecisions() {
        return Set.of(Precision.INT8);
    }

    @Override
    public PluginResult apply(OnnxModel model, PluginOptions options, PluginContext context) throws PluginException {
        boolean operator = switch (options.text(FORMAT)) {
            case "operator" -> true;
            case "qdq" -> false;
            default -> context.profile().quantizedFormat() == QuantizedFormat.OPERATOR;
        };
        return Pipeline.run(model, options, context, options.flag(Pipeline.SYMMETRIC),
                (m, weights) -> new DynamicScheme(operator));
    }
}

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
import io.modelpress.spi.Technique;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** 4-bit weight-only block quantization of MatMul/Gemm weights (MatMulNBits); other weights int8. */
public final class Int4BlockPlugin implements CompressionPlugin {

    static final String BLOCK_SIZE = "block-size";
    static final String EMBEDDINGS = "embeddings";

    @Override
    public String id() {
        return "int4-block";
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
        return "4-bit block-quantized MatMul/Gemm weights (ONNX Runtime MatMulNBits); embeddings and kernels int8";
    }

    @Override
    public List<OptionSpec> options() {
        List<OptionSpec> options = new ArrayList<>(Pipeline.commonOptions(false));
        options.add(OptionSpec.choice(BLOCK_SIZE, "32", List.of("32", "64", "128"),
                "weights along K per 4-bit block, each with its own scale"));
        options.add(OptionSpec.choice(EMBEDDINGS, "int4", List.of("int4", "int8"),
                "embedding tables read by Gather: 4-bit blocks along each row (GatherBlockQuantized) or int8 per row"));
        return options;
    }

    @Override
    public Set<Precision> requiredPrecisions() {
        return Set.of(Precision.INT4);
    }

    @Override
    public PluginResult apply(OnnxModel model, PluginOptions options, PluginContext context) throws PluginException {
        int blockSize = Integer.parseInt(options.text(BLOCK_SIZE));
        boolean symmetric = options.flag(Pipeline.SYMMETRIC);
        // the int8 weights beside the 4-bit ones are symmetric: their ranges are centred anyway
        return Pipeline.run(model, options, context, true, (m, weights) -> new BlockScheme(blockSize, symmetric,
                options.text(EMBEDDINGS).equals("int4")));
    }
}

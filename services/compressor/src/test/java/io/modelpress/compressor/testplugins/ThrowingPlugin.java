package io.modelpress.compressor.testplugins;

import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.OptionSpec;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.PluginSpi;
import io.modelpress.spi.Technique;
import java.util.List;

/** A plugin with a bug: its apply always throws. */
public final class ThrowingPlugin implements CompressionPlugin {

    public static final String MESSAGE = "index 7 out of bounds for a haunted weight";

    @Override
    public String id() {
        return "test-thrower";
    }

    @Override
    public String version() {
        return "0.0.1";
    }

    @Override
    public int spiVersion() {
        return PluginSpi.VERSION;
    }

    @Override
    public Technique technique() {
        return Technique.GRAPH_OPTIMIZATION;
    }

    @Override
    public String description() {
        return "a test plugin that always fails";
    }

    @Override
    public List<OptionSpec> options() {
        return List.of();
    }

    @Override
    public PluginResult apply(OnnxModel model, PluginOptions options, PluginContext context) {
        throw new IllegalStateException(MESSAGE);
    }
}

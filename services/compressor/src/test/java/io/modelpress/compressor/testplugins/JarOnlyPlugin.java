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

/**
 * A plugin only ever loaded from a jar in the plugins folder (the test class path does not declare
 * it): returns the model unchanged and says which class loader it came from.
 */
public final class JarOnlyPlugin implements CompressionPlugin {

    @Override
    public String id() {
        return "test-jar-only";
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
        return "a test plugin that lives in a plugin jar";
    }

    @Override
    public List<OptionSpec> options() {
        return List.of();
    }

    @Override
    public PluginResult apply(OnnxModel model, PluginOptions options, PluginContext context) {
        return PluginResult.builder(model).change("loaded by " + getClass().getClassLoader().getName()).build();
    }
}

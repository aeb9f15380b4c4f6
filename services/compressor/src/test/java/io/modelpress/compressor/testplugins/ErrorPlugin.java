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
 * A plugin that throws an {@link Error}, or with {@code kind=oom} an {@link OutOfMemoryError}, as a
 * native allocation or a huge array in a real plugin would.
 */
public final class ErrorPlugin implements CompressionPlugin {

    public static final String MESSAGE = "a plugin's own Error, not an exception";

    @Override
    public String id() {
        return "test-error";
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
        return "a test plugin that throws an Error";
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(OptionSpec.text("kind", "error", "error, or oom for an OutOfMemoryError"));
    }

    @Override
    public PluginResult apply(OnnxModel model, PluginOptions options, PluginContext context) {
        if (options.text("kind").equals("oom")) {
            throw new OutOfMemoryError("Java heap space (thrown by the test plugin)");
        }
        throw new AssertionError(MESSAGE);
    }
}

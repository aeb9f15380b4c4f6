package io.modelpress.compressor.testplugins;

import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.OptionSpec;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.PluginSpi;
import io.modelpress.spi.Technique;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A plugin that hangs: waits while the file named by {@code hold-file} exists, deaf to
 * cancellation and interrupts, as a plugin stuck in native code or a lost loop would be.
 */
public final class HangPlugin implements CompressionPlugin {

    @Override
    public String id() {
        return "test-hang";
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
        return "a test plugin that ignores cancellation while a file exists";
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(OptionSpec.text("hold-file", "", "hang while this file exists"));
    }

    @Override
    public PluginResult apply(OnnxModel model, PluginOptions options, PluginContext context) {
        Path hold = Path.of(options.text("hold-file"));
        while (Files.exists(hold)) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException ignored) {
                // deaf on purpose
            }
        }
        return PluginResult.builder(model).change("released").build();
    }
}

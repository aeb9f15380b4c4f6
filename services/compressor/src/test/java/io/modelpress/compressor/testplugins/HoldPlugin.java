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
 * A slow step for tests: waits while the file named by option {@code hold-file} exists, reporting
 * progress and honouring cancellation, then returns the model unchanged.
 */
public final class HoldPlugin implements CompressionPlugin {

    @Override
    public String id() {
        return "test-hold";
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
        return "a test plugin that waits while a file exists";
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(OptionSpec.text("hold-file", "", "wait while this file exists"));
    }

    @Override
    public PluginResult apply(OnnxModel model, PluginOptions options, PluginContext context) {
        Path hold = Path.of(options.text("hold-file"));
        long waited = 0;
        while (Files.exists(hold)) {
            context.checkCancelled();
            context.progress(Math.min(0.99, waited / 60_000.0), "holding while " + hold + " exists");
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.util.concurrent.CancellationException("interrupted");
            }
            waited += 50;
        }
        return PluginResult.builder(model).change("held for " + waited + " ms").build();
    }
}

package io.modelpress.engine.plugin;

import io.modelpress.spi.CompressionPlugin;
import java.util.Objects;

/** A plugin the host accepted, with where it came from. */
public record LoadedPlugin(CompressionPlugin plugin, PluginSource source) {

    public LoadedPlugin {
        Objects.requireNonNull(plugin, "plugin is null");
        Objects.requireNonNull(source, "source is null");
    }

    public String id() {
        return plugin.id();
    }
}

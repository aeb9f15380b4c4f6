package io.modelpress.engine.plugin;

/**
 * A plugin (or jar) the host refused, and why: a jar the allow-list does not name or whose sha256
 * changed, a jar bundling ONNX Runtime, a duplicate id, an SPI version it cannot run, a jar it
 * could not load.
 */
public record RejectedPlugin(PluginSource source, String reason) {

    @Override
    public String toString() {
        return source + ": " + reason;
    }
}

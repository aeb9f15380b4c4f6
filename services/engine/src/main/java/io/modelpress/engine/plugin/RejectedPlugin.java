package io.modelpress.engine.plugin;

/**
 * A plugin (or jar) the host refused, and why: a duplicate id, an SPI version it cannot run, a
 * jar it could not load.
 */
public record RejectedPlugin(PluginSource source, String reason) {
}

package io.modelpress.engine.plugin;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a plugin came from: the host's class path, or a jar in the plugins folder.
 *
 * @param jar the jar, empty for the class path
 */
public record PluginSource(Optional<Path> jar) {

    public static final PluginSource CLASS_PATH = new PluginSource(Optional.empty());

    public static PluginSource jar(Path jar) {
        return new PluginSource(Optional.of(jar));
    }

    @Override
    public String toString() {
        return jar.map(path -> "jar " + path.getFileName()).orElse("class path");
    }
}

package io.modelpress.engine.plugin;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a plugin came from: the host's class path, or a jar in the plugins folder.
 *
 * @param jar the jar, empty for the class path
 * @param sha256 the digest of the jar as it was loaded, empty for the class path or a jar refused before it was read
 */
public record PluginSource(Optional<Path> jar, Optional<String> sha256) {

    public static final PluginSource CLASS_PATH = new PluginSource(Optional.empty(), Optional.empty());

    public PluginSource {
        Objects.requireNonNull(jar, "jar is null");
        Objects.requireNonNull(sha256, "sha256 is null");
    }

    public static PluginSource jar(Path jar) {
        return new PluginSource(Optional.of(jar), Optional.empty());
    }

    public static PluginSource jar(Path jar, String sha256) {
        return new PluginSource(Optional.of(jar), Optional.of(sha256));
    }

    @Override
    public String toString() {
        return jar.map(path -> "jar " + path.getFileName()).orElse("class path");
    }
}

package io.modelpress.cli;

import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.engine.profile.HardwareProfiles;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options that say where plugins and profiles come from, shared by the commands that need them. */
final class Sources {

    @Option(names = "--plugins-dir", paramLabel = "DIR", description = "a folder of plugin jars (default: $MODELPRESS_PLUGINS_DIR)")
    Path pluginsDir;

    @Option(names = "--plugins-allowed", paramLabel = "NAME.jar:SHA256,...",
            description = "the plugin jars of the plugins folder that may load, each with its sha256; others are refused "
                    + "(default: $MODELPRESS_PLUGINS_ALLOWED)")
    String pluginsAllowed;

    @Option(names = "--plugins-allowed-file", paramLabel = "FILE",
            description = "a file of allowed plugin jars, NAME.jar:SHA256 or sha256sum lines (default: $MODELPRESS_PLUGINS_ALLOWED_FILE)")
    Path pluginsAllowedFile;

    @Option(names = "--profiles-dir", paramLabel = "DIR", description = "a folder of extra profiles (default: $MODELPRESS_PROFILES_DIR)")
    Path profilesDir;

    PluginRegistry plugins() {
        return Environment.plugins(pluginsDir, pluginsAllowed, pluginsAllowedFile);
    }

    HardwareProfiles profiles() {
        return Environment.profiles(profilesDir);
    }
}

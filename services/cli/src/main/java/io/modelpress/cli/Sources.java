package io.modelpress.cli;

import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.engine.profile.HardwareProfiles;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options that say where plugins and profiles come from, shared by the commands that need them. */
final class Sources {

    @Option(names = "--plugins-dir", paramLabel = "DIR", description = "a folder of plugin jars (default: $MODELPRESS_PLUGINS_DIR)")
    Path pluginsDir;

    @Option(names = "--profiles-dir", paramLabel = "DIR", description = "a folder of extra profiles (default: $MODELPRESS_PROFILES_DIR)")
    Path profilesDir;

    PluginRegistry plugins() {
        return Environment.plugins(pluginsDir);
    }

    HardwareProfiles profiles() {
        return Environment.profiles(profilesDir);
    }
}

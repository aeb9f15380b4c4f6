package io.modelpress.cli;

import io.modelpress.engine.plugin.LoadedPlugin;
import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.engine.plugin.RejectedPlugin;
import io.modelpress.engine.profile.HardwareProfiles;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.OptionSpec;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

@Command(name = "plugins", mixinStandardHelpOptions = true, versionProvider = ModelpressCli.Version.class, description = "Lists the plugins with their options and the profiles they serve.")
final class PluginsCommand implements Callable<Integer> {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    Sources sources;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PluginRegistry registry = sources.plugins();
        HardwareProfiles profiles = sources.profiles();
        for (LoadedPlugin loaded : registry.all()) {
            CompressionPlugin plugin = loaded.plugin();
            out.printf("%s %s  [%s, %s]%n", plugin.id(), plugin.version(), plugin.technique().label(), loaded.source());
            out.printf("  %s%n", plugin.description());
            loaded.source().sha256().ifPresent(sha256 -> out.printf("  sha256: %s (allowed)%n", sha256));
            String served = profiles.all().stream().filter(plugin::serves).map(HardwareProfile::id)
                    .collect(Collectors.joining(", "));
            out.printf("  profiles: %s%n", served.isEmpty() ? "none" : served);
            for (OptionSpec option : plugin.options()) {
                out.printf("  --plugin %s:%s=...   %s (%s)%n", plugin.id(), option.name(), option.description(), option.usage());
            }
            out.println();
        }
        for (RejectedPlugin rejected : registry.rejected()) {
            out.printf("refused (%s): %s%n", rejected.source(), rejected.reason());
        }
        return ModelpressCli.OK;
    }
}

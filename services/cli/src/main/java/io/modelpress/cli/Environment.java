package io.modelpress.cli;

import io.modelpress.engine.StepLimit;
import io.modelpress.engine.plugin.PluginAllowList;
import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.engine.profile.HardwareProfiles;
import io.modelpress.model.LoadLimits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Where the CLI finds plugins and profiles, from options or environment variables. */
final class Environment {

    private Environment() {
    }

    /** The built-in plugins and the jars of the plugins folder that the allow-list names with their sha256. */
    static PluginRegistry plugins(Path pluginsDir, String allowed, Path allowedFile) {
        String entries = allowed != null ? allowed : Optional.ofNullable(System.getenv("MODELPRESS_PLUGINS_ALLOWED")).orElse("");
        PluginAllowList list = PluginAllowList.parse(entries);
        Optional<Path> file = Optional.ofNullable(allowedFile).or(() -> Optional.ofNullable(
                System.getenv("MODELPRESS_PLUGINS_ALLOWED_FILE")).filter(value -> !value.isBlank()).map(Path::of));
        if (file.isPresent()) {
            list = list.and(PluginAllowList.read(file.get()));
        }
        return PluginRegistry.discover(Environment.class.getClassLoader(), folder(pluginsDir, "MODELPRESS_PLUGINS_DIR"),
                list);
    }

    /** How long one plugin call may run: {@code --step-time-limit}, else $MODELPRESS_STEP_TIME_LIMIT, else 30 minutes. */
    static StepLimit stepLimit(String option) {
        String text = option != null ? option : System.getenv("MODELPRESS_STEP_TIME_LIMIT");
        if (text == null || text.isBlank()) {
            return StepLimit.DEFAULT;
        }
        return new StepLimit(Durations.parse("--step-time-limit", text), StepLimit.DEFAULT.grace());
    }

    static HardwareProfiles profiles(Path profilesDir) {
        Optional<Path> folder = folder(profilesDir, "MODELPRESS_PROFILES_DIR");
        return folder.isPresent() ? HardwareProfiles.load(folder.get()) : HardwareProfiles.builtIn();
    }

    /**
     * Limits that keep a model and its compressed copy inside the heap, so a model too large is
     * refused with a reason instead of running out of memory.
     */
    static LoadLimits loadLimits() {
        long share = Runtime.getRuntime().maxMemory() / 3;
        long file = Math.min(LoadLimits.PROTOBUF_LIMIT, share);
        return new LoadLimits(file, Math.max(file, share));
    }

    private static Optional<Path> folder(Path option, String variable) {
        if (option != null) {
            return Optional.of(option);
        }
        String value = System.getenv(variable);
        if (value == null || value.isBlank()) {
            return Optional.empty();
        }
        Path folder = Path.of(value);
        return Files.isDirectory(folder) ? Optional.of(folder) : Optional.empty();
    }
}

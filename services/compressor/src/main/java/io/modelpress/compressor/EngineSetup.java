package io.modelpress.compressor;

import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.StepLimit;
import io.modelpress.engine.plugin.PluginAllowList;
import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.engine.plugin.RejectedPlugin;
import io.modelpress.engine.profile.HardwareProfiles;
import io.modelpress.model.LoadLimits;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jboss.logging.Logger;

/** The plugins, profiles and load limits every compression of this service uses; one engine per job. */
@Startup // plugins are vetted and listed in the log when the service starts, not at the first event
@ApplicationScoped
public class EngineSetup {

    private static final Logger LOG = Logger.getLogger(EngineSetup.class);

    private final PluginRegistry plugins;
    private final HardwareProfiles profiles;
    private final LoadLimits limits;
    private final CompressorConfig config;
    private final Map<String, Duration> stepLimits = new HashMap<>();

    /** Plugin jars vetted into {@code java.io.tmpdir}: for tests that build a setup without a work folder. */
    EngineSetup(CompressorConfig config) {
        this(config, Optional.empty());
    }

    @Inject
    public EngineSetup(CompressorConfig config, WorkFolder work) {
        // The vetted jars' copies live in this process's work folder: removed at a clean stop or by the next start.
        this(config, Optional.of(work.run()));
    }

    private EngineSetup(CompressorConfig config, Optional<Path> pluginCopies) {
        this.config = config;
        // From an environment variable (MODELPRESS_STEP_TIME_LIMITS__X86_VNNI_) the key arrives as
        // x86.vnni: profile ids never hold dots, so a dot can only have been a dash.
        config.stepTimeLimits().forEach((profile, limit) -> stepLimits.put(profile.replace('.', '-'), limit));
        this.plugins = PluginRegistry.discover(EngineSetup.class.getClassLoader(), config.pluginsDir(),
                allowList(config), pluginCopies);
        this.profiles = config.profilesDir().map(HardwareProfiles::load).orElseGet(HardwareProfiles::builtIn);
        // A model and its compressed copy must fit in the heap: refuse larger ones with a reason.
        long share = Runtime.getRuntime().maxMemory() / 3;
        long file = Math.min(LoadLimits.PROTOBUF_LIMIT, share);
        this.limits = new LoadLimits(file, Math.max(file, share));
        for (RejectedPlugin rejected : plugins.rejected()) {
            LOG.warnf("plugin refused: %s", rejected);
        }
        plugins.all().stream().filter(plugin -> plugin.source().sha256().isPresent()).forEach(plugin ->
                LOG.infof("plugin %s %s loaded from %s (sha256 %s)", plugin.id(), plugin.plugin().version(),
                        plugin.source(), plugin.source().sha256().get()));
        LOG.infof("plugins: %s; profiles: %s", plugins.all().stream().map(plugin -> plugin.id()).toList(), profiles.ids());
    }

    public PluginRegistry plugins() {
        return plugins;
    }

    public HardwareProfiles profiles() {
        return profiles;
    }

    public LoadLimits limits() {
        return limits;
    }

    /**
     * A new engine: each job gets its own, so cancelling one cancels nothing else.
     *
     * @param tempFolder where its steps keep temporary files: inside the job's work folder, so they
     *        count against its quota and go with it, failures included
     * @param profileId the profile it compresses for, which may have a step time limit of its own
     */
    public CompressionEngine newEngine(Path tempFolder, String profileId) {
        return new CompressionEngine(plugins, limits, Optional.of(tempFolder), stepLimit(profileId));
    }

    /** The profile's own step limit, else the configured one, else half the job's limit. */
    StepLimit stepLimit(String profileId) {
        Duration limit = Optional.ofNullable(stepLimits.get(profileId))
                .or(config::stepTimeLimit)
                .orElseGet(() -> config.jobTimeout().dividedBy(2));
        return new StepLimit(limit, config.stepCancelGrace());
    }

    /** Both settings together; a jar in neither is refused. */
    private static PluginAllowList allowList(CompressorConfig config) {
        PluginAllowList listed = PluginAllowList.parse(String.join(",", config.pluginsAllowed().orElse(List.of())));
        return config.pluginsAllowedFile().map(file -> listed.and(PluginAllowList.read(file))).orElse(listed);
    }
}

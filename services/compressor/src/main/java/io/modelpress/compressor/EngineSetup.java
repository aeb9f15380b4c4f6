package io.modelpress.compressor;

import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.engine.plugin.RejectedPlugin;
import io.modelpress.engine.profile.HardwareProfiles;
import io.modelpress.model.LoadLimits;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.Optional;
import org.jboss.logging.Logger;

/** The plugins, profiles and load limits every compression of this service uses; one engine per job. */
@ApplicationScoped
public class EngineSetup {

    private static final Logger LOG = Logger.getLogger(EngineSetup.class);

    private final PluginRegistry plugins;
    private final HardwareProfiles profiles;
    private final LoadLimits limits;

    @Inject
    public EngineSetup(CompressorConfig config) {
        this.plugins = PluginRegistry.discover(EngineSetup.class.getClassLoader(), config.pluginsDir());
        this.profiles = config.profilesDir().map(HardwareProfiles::load).orElseGet(HardwareProfiles::builtIn);
        // A model and its compressed copy must fit in the heap: refuse larger ones with a reason.
        long share = Runtime.getRuntime().maxMemory() / 3;
        long file = Math.min(LoadLimits.PROTOBUF_LIMIT, share);
        this.limits = new LoadLimits(file, Math.max(file, share));
        for (RejectedPlugin rejected : plugins.rejected()) {
            LOG.warnf("plugin refused: %s", rejected);
        }
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
     */
    public CompressionEngine newEngine(Path tempFolder) {
        return new CompressionEngine(plugins, limits, Optional.of(tempFolder));
    }
}

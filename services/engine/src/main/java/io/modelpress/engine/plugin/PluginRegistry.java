package io.modelpress.engine.plugin;

import io.modelpress.engine.EngineException;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.PluginSpi;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The plugins a host runs: found with {@link ServiceLoader} on the class path and in each jar of
 * a plugins folder that the allow-list names with its sha256, one class loader per jar. Unlisted or
 * changed jars, jars bundling ONNX Runtime, duplicate ids, SPI versions this host cannot run and
 * jars that fail to load are refused and listed in {@link #rejected()}; the rest stay usable.
 */
public final class PluginRegistry {

    private static final Pattern ID = Pattern.compile("[a-z][a-z0-9]*(-[a-z0-9]+)*");

    private final Map<String, LoadedPlugin> plugins;
    private final List<RejectedPlugin> rejected;

    private PluginRegistry(Map<String, LoadedPlugin> plugins, List<RejectedPlugin> rejected) {
        this.plugins = Collections.unmodifiableMap(plugins);
        this.rejected = List.copyOf(rejected);
    }

    /** The plugins on the class path of {@code hostLoader} only. */
    public static PluginRegistry discover(ClassLoader hostLoader) {
        return discover(hostLoader, Optional.empty(), PluginAllowList.NONE);
    }

    /**
     * The plugins on the class path, then those of every jar in {@code pluginsFolder} (in name order)
     * that {@code allowed} names with its sha256; the other jars are refused with the reason.
     */
    public static PluginRegistry discover(ClassLoader hostLoader, Optional<Path> pluginsFolder,
            PluginAllowList allowed) {
        return discover(hostLoader, pluginsFolder, allowed, Optional.empty());
    }

    /**
     * As {@link #discover(ClassLoader, Optional, PluginAllowList)}, with the private copies of the
     * vetted jars (loaded for the life of the process) in a new folder under {@code copiesParent}
     * instead of {@code java.io.tmpdir}.
     */
    public static PluginRegistry discover(ClassLoader hostLoader, Optional<Path> pluginsFolder,
            PluginAllowList allowed, Optional<Path> copiesParent) {
        Objects.requireNonNull(allowed, "allowed is null");
        Objects.requireNonNull(copiesParent, "copiesParent is null");
        Builder builder = new Builder();
        builder.addAll(ServiceLoader.load(CompressionPlugin.class, hostLoader), PluginSource.CLASS_PATH);
        pluginsFolder.ifPresent(folder -> builder.addFolder(folder, hostLoader, new JarVetting(allowed, copiesParent)));
        return new PluginRegistry(builder.plugins, builder.rejected);
    }

    /** All accepted plugins, by id. */
    public List<LoadedPlugin> all() {
        return List.copyOf(plugins.values());
    }

    public Optional<LoadedPlugin> find(String id) {
        return Optional.ofNullable(plugins.get(id));
    }

    /** The plugin with this id, or an error that lists the ids there are. */
    public LoadedPlugin require(String id) {
        LoadedPlugin plugin = plugins.get(id);
        if (plugin == null) {
            throw new EngineException("unknown plugin '" + id + "'; available plugins: "
                    + (plugins.isEmpty() ? "none" : String.join(", ", plugins.keySet())));
        }
        return plugin;
    }

    public List<RejectedPlugin> rejected() {
        return rejected;
    }

    private static final class Builder {
        private final Map<String, LoadedPlugin> plugins = new TreeMap<>();
        private final List<RejectedPlugin> rejected = new ArrayList<>();

        void addFolder(Path folder, ClassLoader hostLoader, JarVetting vetting) {
            if (!Files.isDirectory(folder)) {
                throw new EngineException("plugins folder " + folder + " does not exist or is not a folder");
            }
            List<Path> jars;
            try (Stream<Path> files = Files.list(folder)) {
                jars = files.filter(file -> file.getFileName().toString().endsWith(".jar")).sorted().toList();
            } catch (IOException e) {
                throw new EngineException("cannot list plugins folder " + folder + ": " + e.getMessage(), e);
            }
            for (Path jar : jars) {
                addJar(jar, hostLoader, vetting);
            }
        }

        private void addJar(Path jar, ClassLoader hostLoader, JarVetting vetting) {
            JarVetting.Vetted vetted;
            try {
                vetted = vetting.vet(jar);
            } catch (JarVetting.Refused e) {
                rejected.add(new RejectedPlugin(PluginSource.jar(jar), e.getMessage()));
                return;
            }
            PluginSource source = PluginSource.jar(jar, vetted.sha256());
            URL url;
            try {
                url = vetted.copy().toUri().toURL();
            } catch (MalformedURLException e) {
                rejected.add(new RejectedPlugin(source, "not a loadable path: " + e.getMessage()));
                return;
            }
            URLClassLoader loader = new PluginClassLoader("plugin:" + jar.getFileName(), url,
                    new SpiOnlyClassLoader(hostLoader));
            int before = plugins.size() + rejected.size();
            addAll(ServiceLoader.load(CompressionPlugin.class, loader), source);
            if (plugins.size() + rejected.size() == before) {
                rejected.add(new RejectedPlugin(source, "declares no plugin (no META-INF/services/"
                        + CompressionPlugin.class.getName() + " entry)"));
            }
        }

        void addAll(ServiceLoader<CompressionPlugin> loader, PluginSource source) {
            Iterator<CompressionPlugin> it = loader.iterator();
            while (true) {
                CompressionPlugin plugin;
                try {
                    if (!it.hasNext()) {
                        return;
                    }
                    plugin = it.next();
                } catch (ServiceConfigurationError | LinkageError e) {
                    rejected.add(new RejectedPlugin(source, "cannot be loaded: " + rootMessage(e)));
                    if (e instanceof ServiceConfigurationError && e.getCause() == null) {
                        return; // a broken service file: the iterator cannot go on
                    }
                    continue;
                }
                add(plugin, source);
            }
        }

        private void add(CompressionPlugin plugin, PluginSource source) {
            String id;
            int spiVersion;
            try {
                id = plugin.id();
                spiVersion = plugin.spiVersion();
            } catch (RuntimeException | LinkageError e) {
                rejected.add(new RejectedPlugin(source, plugin.getClass().getName() + " cannot say its id or SPI version: "
                        + rootMessage(e)));
                return;
            }
            if (id == null || !ID.matcher(id).matches()) {
                rejected.add(new RejectedPlugin(source, plugin.getClass().getName() + " has id '" + id
                        + "'; ids are lowercase words joined by dashes"));
                return;
            }
            if (!PluginSpi.supports(spiVersion)) {
                rejected.add(new RejectedPlugin(source, "plugin '" + id + "' was built for SPI version " + spiVersion
                        + "; this host runs SPI versions " + PluginSpi.OLDEST_SUPPORTED + " to " + PluginSpi.VERSION));
                return;
            }
            LoadedPlugin existing = plugins.get(id);
            if (existing != null) {
                rejected.add(new RejectedPlugin(source, "plugin id '" + id + "' is already provided by "
                        + existing.source() + " (" + existing.plugin().getClass().getName() + "); ids must be unique"));
                return;
            }
            plugins.put(id, new LoadedPlugin(plugin, source));
        }

        private static String rootMessage(Throwable error) {
            Throwable root = error;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
            return root == error ? message : root.getClass().getSimpleName() + ": " + message;
        }
    }
}

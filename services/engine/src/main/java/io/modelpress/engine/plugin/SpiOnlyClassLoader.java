package io.modelpress.engine.plugin;

import io.modelpress.spi.PluginSpi;
import java.io.IOException;
import java.net.URL;
import java.util.Collections;
import java.util.Enumeration;

/**
 * The parent of every plugin jar's class loader: the platform classes, plus the SPI packages
 * taken from the host. Nothing else of the host leaks into a plugin, so a plugin brings its own
 * libraries in whatever version it likes.
 */
final class SpiOnlyClassLoader extends ClassLoader {

    static {
        registerAsParallelCapable();
    }

    private final ClassLoader host;

    SpiOnlyClassLoader(ClassLoader host) {
        super("modelpress-spi", ClassLoader.getPlatformClassLoader());
        this.host = host;
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (isExported(name)) {
            return host.loadClass(name);
        }
        return super.loadClass(name, resolve);
    }

    @Override
    public URL getResource(String name) {
        return isExported(name.replace('/', '.')) ? host.getResource(name) : super.getResource(name);
    }

    @Override
    public Enumeration<URL> getResources(String name) throws IOException {
        // Service files and other resources of the host stay invisible to plugins.
        return isExported(name.replace('/', '.')) ? host.getResources(name) : Collections.emptyEnumeration();
    }

    static boolean isExported(String className) {
        for (String prefix : PluginSpi.EXPORTED_PACKAGES) {
            if (className.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }
}

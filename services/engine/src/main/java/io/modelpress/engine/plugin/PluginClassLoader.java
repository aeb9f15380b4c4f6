package io.modelpress.engine.plugin;

import java.net.URL;
import java.net.URLClassLoader;

/**
 * The class loader of one plugin jar: the SPI from the host, everything else from the jar, and
 * never ONNX Runtime's Java API. A jar bundling the runtime is refused before it loads; this
 * loader also keeps the runtime out if one arrives another way, so a plugin meets a clear
 * ClassNotFoundException instead of a second native runtime in the process.
 */
final class PluginClassLoader extends URLClassLoader {

    static {
        registerAsParallelCapable();
    }

    private static final String RUNTIME_PREFIX = JarVetting.RUNTIME_PACKAGE.replace('/', '.');

    PluginClassLoader(String name, URL jar, ClassLoader spi) {
        super(name, new URL[] {jar}, spi);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (name.startsWith(RUNTIME_PREFIX)) {
            throw new ClassNotFoundException(name + ": plugin jars do not get ONNX Runtime; they run models"
                    + " through PluginContext.runner");
        }
        return super.loadClass(name, resolve);
    }

    @Override
    public URL findResource(String name) {
        return name.startsWith(JarVetting.RUNTIME_PACKAGE) ? null : super.findResource(name);
    }
}

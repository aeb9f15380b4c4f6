package io.modelpress.plugins.distillation;

import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import io.modelpress.spi.PluginException;

/**
 * DJL's PyTorch engine, loaded from the native libraries this plugin ships (pytorch-native-cpu),
 * never downloaded.
 *
 * <p>DJL finds engines with {@link java.util.ServiceLoader} through the thread's context class
 * loader, and does so once. In the host each plugin has its own class loader, which the context
 * loader of the host's threads cannot see into; so every DJL call here runs with this plugin's
 * loader as context loader.
 */
final class PyTorch {

    static final String ENGINE = "PyTorch";
    private static final String OFFLINE = "ai.djl.offline";

    private PyTorch() {
    }

    /** Work to run against the engine. */
    interface Work<T> {
        T run(Engine engine) throws PluginException;
    }

    static <T> T run(Work<T> work) throws PluginException {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(PyTorch.class.getClassLoader());
        try {
            return work.run(engine());
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    private static Engine engine() throws PluginException {
        // DJL 0.36+ would try to download its JNI library; 0.35.1 with the native jar present does
        // not, and offline mode makes sure that a missing file fails here instead of reaching out.
        System.getProperties().putIfAbsent(OFFLINE, "true");
        try {
            return Engine.getEngine(ENGINE);
        } catch (IllegalArgumentException e) {
            throw new PluginException("DJL finds no PyTorch engine on the plugin's class path (engines found: "
                    + Engine.getAllEngines() + "); the plugin jar must come with ai.djl.pytorch:pytorch-engine");
        } catch (EngineException | LinkageError e) {
            throw new PluginException("PyTorch (DJL " + ENGINE + " engine) cannot load its native library on this"
                    + " machine: " + rootMessage(e), e);
        }
    }

    private static String rootMessage(Throwable error) {
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        return message.lines().findFirst().orElse(message);
    }
}

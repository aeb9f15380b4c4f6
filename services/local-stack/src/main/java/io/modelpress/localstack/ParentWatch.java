package io.modelpress.localstack;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.Arrays;

/**
 * Runs in a child JVM before its real main class: when the parent's end of standard input closes
 * (the parent exited, even by {@code kill -9}), the child halts, so no broker outlives its test run.
 * Usage: {@code java -cp ... ParentWatch MAIN_CLASS ARGS...}.
 */
public final class ParentWatch {

    private ParentWatch() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            throw new IllegalArgumentException("usage: ParentWatch MAIN_CLASS [ARGS...]");
        }
        Thread watch = new Thread(ParentWatch::watchStandardInput, "parent-watch");
        watch.setDaemon(true);
        watch.start();
        Method main = Class.forName(args[0]).getMethod("main", String[].class);
        main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
    }

    private static void watchStandardInput() {
        InputStream in = System.in;
        try {
            while (in.read() >= 0) {
                // the parent writes nothing; any byte is ignored
            }
        } catch (IOException ignored) {
            // a broken pipe means the same as end of input
        }
        System.err.println("modelpress: standard input closed (the parent stopped or is gone); stopping");
        // exit, not halt: shutdown hooks let the broker close its logs cleanly
        Thread stopper = new Thread(() -> System.exit(0), "parent-gone-exit");
        stopper.start();
        try {
            stopper.join(15_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Runtime.getRuntime().halt(1);
    }

    /** This library's jar or classes folder, or null when it cannot be named as a file. */
    static Path location() {
        try {
            CodeSource source = ParentWatch.class.getProtectionDomain().getCodeSource();
            if (source == null || source.getLocation() == null || !"file".equals(source.getLocation().getProtocol())) {
                return null;
            }
            Path path = Path.of(source.getLocation().toURI());
            return Files.exists(path) ? path : null;
        } catch (URISyntaxException | IllegalArgumentException | SecurityException e) {
            return null;
        }
    }
}

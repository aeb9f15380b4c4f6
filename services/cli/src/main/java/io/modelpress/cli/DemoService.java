package io.modelpress.cli;

import io.modelpress.localstack.ChildProcess;
import io.modelpress.localstack.LocalStackException;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarFile;

/**
 * A modelpress service (the compressor, the dashboard) as a child JVM: its packaged jar run with
 * the stack's settings in its environment, listening on a free loopback port, ready when its health
 * check says UP. Like the stack's servers, it stops by itself if this JVM dies.
 */
final class DemoService implements AutoCloseable {

    /** Long enough for the service to let a running model stop and to close its Kafka clients. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(30);

    private final ChildProcess process;
    private final URI url;
    private final String name;

    private DemoService(ChildProcess process, URI url, String name) {
        this.process = process;
        this.url = url;
        this.name = name;
    }

    /**
     * Starts the service and waits until it is ready.
     *
     * @param jar the service's runnable jar (quarkus-run.jar)
     * @param environment its settings, as environment variables
     * @param heap the JVM heap, e.g. {@code 2g}
     */
    static DemoService start(Path serviceJar, Map<String, String> environment, String heap, Path folder, Duration timeout)
            throws IOException {
        return start("compressor service", "/q/health/ready", serviceJar, environment, heap, folder, timeout);
    }

    /**
     * Starts a service and waits until {@code healthPath} answers 200.
     *
     * @param name what it is, for messages
     * @param healthPath the check that says it is ready (the compressor's readiness covers Kafka and S3;
     *        a reader of topics that may not exist yet is ready once it lives)
     */
    static DemoService start(String name, String healthPath, Path serviceJar, Map<String, String> environment, String heap,
            Path folder, Duration timeout) throws IOException {
        // absolute: the child runs in its own folder
        Path jar = serviceJar.toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new LocalStackException("the " + name + " is not built: " + jar
                    + " is missing (build it with ./mvnw -DskipTests install)");
        }
        Files.createDirectories(folder);
        int port = freePort();
        Map<String, String> settings = new HashMap<>(environment);
        settings.put("QUARKUS_HTTP_HOST", "127.0.0.1");
        settings.put("QUARKUS_HTTP_PORT", String.valueOf(port));
        settings.putIfAbsent("MODELPRESS_WORK_DIR", folder.resolve("work").toString());
        // Out of memory ends the service (as in production), rather than leaving it in an unknown state.
        List<String> jvm = new ArrayList<>(List.of("-Xmx" + heap, "-XX:+UseParallelGC", "-XX:+ExitOnOutOfMemoryError",
                "-Dai.djl.offline=true"));
        Attributes manifest = manifest(jar);
        // Run from the class path (so the parent watch can go first), the manifest's opens as options.
        String opens = manifest.getValue("Add-Opens");
        if (opens != null) {
            Arrays.stream(opens.trim().split("\\s+")).forEach(module -> jvm.add("--add-opens=" + module + "=ALL-UNNAMED"));
        }
        String main = manifest.getValue(Attributes.Name.MAIN_CLASS);
        if (main == null) {
            throw new LocalStackException(jar + " names no Main-Class; is it the service's quarkus-run.jar?");
        }
        ChildProcess process = ChildProcess.start(name, List.of(jar), jvm, main, List.of(), settings,
                folder, folder.resolve("service.log"));
        DemoService service = new DemoService(process, URI.create("http://127.0.0.1:" + port), name);
        try {
            service.awaitReady(healthPath, timeout);
        } catch (RuntimeException e) {
            service.close();
            throw e;
        }
        return service;
    }

    /** The service's HTTP root: /q/health, /q/metrics. */
    URI url() {
        return url;
    }

    Path log() {
        return process.log();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    private void awaitReady(String healthPath, Duration timeout) {
        URI ready = url.resolve(healthPath);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw process.failure("exited while starting");
            }
            if (status(ready) == 200) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw process.failure("was not ready at " + ready + " within " + timeout.toSeconds() + " s");
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LocalStackException("interrupted while waiting for the " + name, e);
            }
        }
    }

    private static int status(URI uri) {
        try {
            HttpURLConnection connection = (HttpURLConnection) uri.toURL().openConnection();
            connection.setConnectTimeout(1000);
            connection.setReadTimeout(5000);
            int status = connection.getResponseCode();
            connection.disconnect();
            return status;
        } catch (IOException e) {
            return -1; // not listening yet
        }
    }

    private static Attributes manifest(Path jar) throws IOException {
        try (JarFile file = new JarFile(jar.toFile())) {
            if (file.getManifest() == null) {
                throw new LocalStackException(jar + " has no manifest; is it the service's quarkus-run.jar?");
            }
            return file.getManifest().getMainAttributes();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Asks the service to stop (it lets running work stop cleanly), then kills it after a grace period. */
    @Override
    public void close() {
        process.stop(STOP_GRACE);
    }
}

package io.modelpress.dashboard;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The packaged dashboard as a child JVM on a given loopback port, as it runs in production. */
final class DashboardProcess implements AutoCloseable {

    private final Process process;
    private final URI url;
    private final Path log;

    private DashboardProcess(Process process, URI url, Path log) {
        this.process = process;
        this.url = url;
        this.log = log;
    }

    static DashboardProcess start(int port, Map<String, String> environment, Path log) throws IOException {
        Path jar = Path.of(System.getProperty("modelpress.dashboard.jar", "target/quarkus-app/quarkus-run.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: the browser tests run after packaging (mvn verify)");
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder builder = new ProcessBuilder(java.toString(), "-Xmx256m", "-jar", jar.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().putAll(environment);
        builder.environment().put("QUARKUS_HTTP_HOST", "127.0.0.1");
        builder.environment().put("QUARKUS_HTTP_PORT", String.valueOf(port));
        DashboardProcess dashboard = new DashboardProcess(builder.start(), URI.create("http://127.0.0.1:" + port), log);
        dashboard.awaitReady(Duration.ofSeconds(60));
        return dashboard;
    }

    URI url() {
        return url;
    }

    /** GET on the dashboard, the body as text; -1 status when it does not answer. */
    String get(String path) throws IOException {
        HttpURLConnection connection = (HttpURLConnection) url.resolve(path).toURL().openConnection();
        connection.setConnectTimeout(2000);
        connection.setReadTimeout(10000);
        try (var in = connection.getResponseCode() < 400 ? connection.getInputStream() : connection.getErrorStream()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the dashboard exited while starting; its log: " + log);
            }
            try {
                HttpURLConnection connection = (HttpURLConnection) url.resolve("/q/health/live").toURL().openConnection();
                connection.setConnectTimeout(500);
                if (connection.getResponseCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        throw new IllegalStateException("the dashboard did not answer within " + timeout + "; its log: " + log);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}

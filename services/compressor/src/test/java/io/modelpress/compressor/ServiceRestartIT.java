package io.modelpress.compressor;

import static io.modelpress.compressor.EventLog.FAILURES;
import static io.modelpress.compressor.EventLog.PROGRESS;
import static io.modelpress.compressor.EventLog.RESULTS;
import static io.modelpress.compressor.EventLog.on;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.minio.MinioClient;
import io.modelpress.compressor.testplugins.HoldPlugin;
import io.modelpress.localstack.LocalStack;
import io.modelpress.testkit.TestModels;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged service, stopped while a model is in the middle of its chain, loses nothing: the
 * record was not acknowledged, so its offset was not committed, and the next start processes it.
 * And a model that takes longer than the job timeout is cancelled with one failure while the
 * consumer goes on. Runs the built quarkus-app as a child JVM, as it runs in production, against
 * a real broker and S3.
 */
class ServiceRestartIT {

    private static final Duration WAIT = Duration.ofSeconds(120);
    /** Ample for the tiny model of this test, even on a busy machine; short enough to wait for. */
    private static final String JOB_TIMEOUT = "15s";
    private static final Pattern LISTENING = Pattern.compile("Listening on: http://[^:]+:(\\d+)");

    @TempDir
    static Path temp;

    private static LocalStack stack;
    private static MinioClient s3;

    @BeforeAll
    static void startStack() throws Exception {
        stack = LocalStack.start(temp.resolve("stack"));
        s3 = LocalStackResource.withBucket(stack);
    }

    @AfterAll
    static void stopStack() {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void aModelInFlightWhenTheServiceStopsIsProcessedAfterTheRestart() throws Exception {
        Path plugins = holdPluginJar(temp.resolve("plugins"));
        Path hold = Files.createFile(temp.resolve("hold"));
        String uri = Fixtures.storeWithExternalData(s3, TestModels.mlp(8, 16, 3, 9), "registry/restart/1", temp);
        String id = "restart/mlp";
        String sha = Fixtures.sha256Of(s3, uri);
        String event = Fixtures.withChain(Fixtures.unsigned(id, uri, "x86-vnni").put("sha256", sha), "graph-cleanup",
                "test-hold:hold-file=" + hold).toString();

        try (EventLog log = new EventLog(stack.bootstrapServers())) {
            Service first = Service.start(environment(plugins), temp.resolve("first.log"));
            try {
                log.sendBinary(id, "registered-restart-1", event);
                log.await(e -> on(PROGRESS, id).test(e) && e.data().path("stage").asText().contains("test-hold"), 1, WAIT);
            } finally {
                first.stop();
            }
            String firstLog = Files.readString(temp.resolve("first.log"));
            assertTrue(firstLog.contains("abandoning 1 model(s) still in flight"), () -> "the first run's log:\n" + firstLog);
            log.drain(Duration.ofSeconds(1));
            assertEquals(List.of(), log.matching(on(RESULTS, id)), "stopped before any result");
            assertEquals(List.of(), log.matching(on(FAILURES, id)), "a stop is no failure of the model");

            Files.delete(hold);
            Map<String, String> restarted = environment(plugins);
            restarted.put("MODELPRESS_JOB_TIMEOUT", JOB_TIMEOUT);
            // The step limit (by default half the job's) out of the way: this tests the job's own limit.
            restarted.put("MODELPRESS_STEP_TIME_LIMIT", "10m");
            Service second = Service.start(restarted, temp.resolve("second.log"));
            try {
                JsonNode result = log.await(on(RESULTS, id), 1, WAIT).get(0).data();
                assertEquals("test-hold", result.path("plan").path(1).path("plugin").asText());
                assertFalse(result.path("replayed").asBoolean(), "computed after the restart");
                log.drain(Duration.ofSeconds(1));
                assertEquals(1, log.matching(on(RESULTS, id)).size(), "one result, not two");
                assertEquals(List.of(), log.matching(on(FAILURES, id)));
                Path local = Files.createDirectories(temp.resolve("result"));
                Files.write(local.resolve("model.onnx"), Fixtures.get(s3, result.path("artifact").path("uri").asText()));
                if (result.path("artifact").has("dataUri")) {
                    String dataUri = result.path("artifact").path("dataUri").asText();
                    Files.write(local.resolve(dataUri.substring(dataUri.lastIndexOf('/') + 1)), Fixtures.get(s3, dataUri));
                }
                CompressionFlowTest.assertSameOutputs(TestModels.mlp(8, 16, 3, 9), local.resolve("model.onnx"));

                // A model over MODELPRESS_JOB_TIMEOUT is cancelled with one failure, and the consumer goes on.
                Path stuck = Files.createFile(temp.resolve("stuck"));
                log.sendBinary("restart/stuck", "registered-stuck-1", Fixtures.withChain(Fixtures.unsigned(
                        "restart/stuck", uri, "x86-vnni").put("sha256", sha), "test-hold:hold-file=" + stuck).toString());
                log.sendBinary("restart/after", "registered-after-1", Fixtures.withChain(Fixtures.unsigned(
                        "restart/after", uri, "x86-vnni").put("sha256", sha), "graph-cleanup").toString());
                log.await(on(RESULTS, "restart/after"), 1, WAIT);
                List<EventLog.Event> timedOut = log.matching(on(FAILURES, "restart/stuck"));
                assertEquals(1, timedOut.size(), () -> "one failure for the model over time: " + timedOut);
                assertEquals("compress", timedOut.get(0).data().path("stage").asText());
                assertTrue(timedOut.get(0).data().path("reason").asText().contains("MODELPRESS_JOB_TIMEOUT"),
                        () -> "the reason names the setting: " + timedOut.get(0).data());
                assertEquals(List.of(), log.matching(on(RESULTS, "restart/stuck")));
            } finally {
                second.stop();
            }
        }
    }

    private static Map<String, String> environment(Path plugins) {
        Map<String, String> environment = LocalStackResource.serviceEnvironment(stack, temp.resolve("work"));
        environment.put("MODELPRESS_PLUGINS_DIR", plugins.toString());
        environment.put("MODELPRESS_PLUGINS_ALLOWED", TestPluginJars.allowingAll(plugins));
        environment.put("MODELPRESS_SHUTDOWN_GRACE", "1s");
        environment.put("MODELPRESS_PROGRESS_INTERVAL", "200ms");
        return environment;
    }

    /** A plugin jar as a third party would drop it in the plugins folder: the hold step only. */
    private static Path holdPluginJar(Path folder) throws IOException, URISyntaxException {
        Files.createDirectories(folder);
        Path classes = Path.of(HoldPlugin.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        String entry = HoldPlugin.class.getName().replace('.', '/') + ".class";
        Path jar = folder.resolve("test-hold.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new JarEntry("META-INF/services/io.modelpress.spi.CompressionPlugin"));
            out.write((HoldPlugin.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
            out.putNextEntry(new JarEntry(entry));
            out.write(Files.readAllBytes(classes.resolve(entry)));
            out.closeEntry();
        }
        return folder;
    }

    /** The packaged service as a child JVM, its console in a log file. */
    record Service(Process process, Path log) {

        static Service start(Map<String, String> environment, Path log) throws Exception {
            return start(environment, List.of(), log);
        }

        /** Starts the service with extra JVM options and waits until it is ready. */
        static Service start(Map<String, String> environment, List<String> jvmOptions, Path log) throws Exception {
            Service service = launch(environment, jvmOptions, log);
            try {
                service.awaitReady();
            } catch (Exception | AssertionError e) {
                service.stop();
                throw e;
            }
            return service;
        }

        /** Starts the service without waiting for it: for a start that is expected to end by itself. */
        static Service launch(Map<String, String> environment, List<String> jvmOptions, Path log) throws Exception {
            Path jar = Path.of(System.getProperty("modelpress.service.jar", "target/quarkus-app/quarkus-run.jar"));
            assertTrue(Files.isRegularFile(jar), () -> jar + " is missing: package the module first");
            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            List<String> command = new java.util.ArrayList<>(List.of(java.toString(), "-Xmx1g",
                    "-XX:+ExitOnOutOfMemoryError"));
            command.addAll(jvmOptions);
            command.addAll(List.of("-jar", jar.toString()));
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            builder.environment().putAll(environment);
            return new Service(builder.start(), log);
        }

        /** Ready when /q/health/ready says UP: Kafka consumer and producers, and S3. */
        private void awaitReady() throws Exception {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                assertTrue(process.isAlive(), () -> "the service exited:\n" + read());
                Matcher port = LISTENING.matcher(read());
                if (port.find()) {
                    try {
                        HttpResponse<String> health = http.send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + port.group(1) + "/q/health/ready")).build(),
                                HttpResponse.BodyHandlers.ofString());
                        if (health.statusCode() == 200) {
                            return;
                        }
                    } catch (IOException notYet) {
                        // the server is still starting
                    }
                }
                Thread.sleep(250);
            }
            throw new AssertionError("the service was not ready within " + WAIT + ":\n" + read());
        }

        /** Waits for the process to end by itself; its exit code. */
        int awaitExit(Duration timeout) throws InterruptedException {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("the service did not exit within " + timeout + ":\n" + read());
            }
            return process.exitValue();
        }

        /** SIGTERM, as a container runtime stops it; the service's own shutdown runs. */
        void stop() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(90, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("the service did not stop within 90 s of SIGTERM:\n" + read());
            }
        }

        String read() {
            try {
                return Files.readString(log);
            } catch (IOException e) {
                return "(no log: " + e.getMessage() + ")";
            }
        }
    }
}

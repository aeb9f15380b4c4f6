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
import io.modelpress.common.EventSchemas;
import io.modelpress.compressor.ServiceRestartIT.Service;
import io.modelpress.compressor.testplugins.ErrorPlugin;
import io.modelpress.compressor.testplugins.HoldPlugin;
import io.modelpress.localstack.LocalStack;
import io.modelpress.testkit.TestModels;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged service against faults of its surroundings and of its plugins, as it runs in
 * production (a child JVM with -XX:+ExitOnOutOfMemoryError) with a real broker and S3 server:
 * a plugin that runs out of memory ends the process, and the record that did it is refused after
 * the second crash; S3 away for tens of seconds and the broker restarted in the middle of a model
 * lose nothing, and each model gets exactly one result.
 */
class FaultRecoveryIT {

    private static final Duration WAIT = Duration.ofSeconds(150);
    /** How long S3 is stopped while models arrive. */
    private static final Duration OUTAGE = Duration.ofSeconds(60);
    /** A restarted instance gets the partition once the dead one's session is over: short here. */
    private static final List<String> JVM = List.of(
            "-Dmp.messaging.incoming.model-registered.session.timeout.ms=6000",
            "-Dmp.messaging.incoming.model-registered.heartbeat.interval.ms=1000");

    @TempDir
    static Path temp;
    /** The services' logs, kept after the run. */
    private static final Path LOGS = Path.of("target", "fault-recovery-logs");

    private static LocalStack stack;
    private static MinioClient s3;
    private static Path plugins;
    private static String uri;
    private static String sha;

    @BeforeAll
    static void startStack() throws Exception {
        Files.createDirectories(LOGS);
        stack = LocalStack.start(temp.resolve("stack"));
        s3 = LocalStackResource.withBucket(stack);
        plugins = pluginJar(temp.resolve("plugins"));
        uri = Fixtures.storeWithExternalData(s3, TestModels.mlp(8, 16, 3, 21), "registry/faults/1", temp);
        sha = Fixtures.sha256Of(s3, uri);
    }

    @AfterAll
    static void stopStack() {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void aRecordThatRunsTheServiceOutOfMemoryEndsItAndIsRefusedAfterTheSecondCrash() throws Exception {
        try (EventLog log = new EventLog(stack.bootstrapServers())) {
            log.sendBinary("oom/model", "registered-oom-1", event("oom/model", "graph-cleanup", "test-error:kind=oom"));
            for (int crash = 1; crash <= 2; crash++) {
                Service service = Service.launch(environment("work-oom"), JVM,
                        LOGS.resolve("oom-" + crash + ".log"));
                int exit = service.awaitExit(WAIT);
                String output = service.read();
                assertEquals(Fatal.OUT_OF_MEMORY_EXIT, exit, () -> "exit code after out of memory:\n" + output);
                assertTrue(output.contains("ran out of memory"), () -> "says why it ended:\n" + output);
            }
            assertEquals(List.of(), log.matching(on(FAILURES, "oom/model")), "a crash publishes nothing");
            // A halt skips the clean stop, so the halted run's folder stays; the second start removed the first's.
            List<Path> halted = runFolders(temp.resolve("work-oom"));
            assertEquals(1, halted.size(), () -> "one halted run's folder: " + halted);

            Service third = Service.start(environment("work-oom"), JVM, LOGS.resolve("oom-3.log"));
            try {
                assertFalse(Files.exists(halted.get(0)), "the halted run's folder is removed at the next start");
                log.sendBinary("oom/after", "registered-oom-after", event("oom/after", "graph-cleanup"));
                log.await(on(RESULTS, "oom/after"), 1, WAIT);
                List<EventLog.Event> refused = log.await(on(FAILURES, "oom/model"), 1, WAIT);
                assertEquals(1, refused.size());
                Fixtures.assertValidEvent(refused.get(0), "io.modelpress.compression.failure", EventSchemas.FAILURE);
                JsonNode data = refused.get(0).data();
                assertTrue(data.path("reason").asText().contains("ended the service 2 times"), () -> data.toString());
                assertFalse(data.path("retryable").asBoolean());
                assertEquals(List.of(), log.matching(on(RESULTS, "oom/model")));
                assertTrue(third.process().isAlive(), "the third start stays up");
            } finally {
                third.stop();
            }
        }
    }

    @Test
    void s3AwayForAMinuteAndTheBrokerRestartedMidModelLoseNothing() throws Exception {
        Path hold = Files.createFile(temp.resolve("hold-broker"));
        try (EventLog log = new EventLog(stack.bootstrapServers())) {
            Service service = Service.start(environment("work-outages"), JVM, LOGS.resolve("outages.log"));
            try {
                // S3 goes away for a minute while models wait; longer than a job's backoff, so the retry
                // topics take them (10 + 20 + 40 s of delays: the third redelivery comes after S3 is back).
                stack.stopS3();
                long stopped = System.nanoTime();
                log.sendBinary("outage/s3-a", "registered-s3-a", event("outage/s3-a", "graph-cleanup"));
                log.sendBinary("outage/s3-b", "registered-s3-b", event("outage/s3-b", "graph-cleanup"));
                awaitLog(service, "sent again later", WAIT);
                Thread.sleep(Math.max(0, OUTAGE.toMillis() - (System.nanoTime() - stopped) / 1_000_000));
                long outage = (System.nanoTime() - stopped) / 1_000_000;
                stack.startS3();
                log.await(on(RESULTS, "outage/s3-a"), 1, WAIT);
                log.await(on(RESULTS, "outage/s3-b"), 1, WAIT);
                System.out.printf("S3 away %d ms; both results %d ms after it came back%n", outage,
                        (System.nanoTime() - stopped) / 1_000_000 - outage);

                // The broker goes away while a model is in the middle of its chain.
                log.sendBinary("outage/broker", "registered-broker-1", event("outage/broker", "graph-cleanup",
                        "test-hold:hold-file=" + hold));
                log.await(e -> on(PROGRESS, "outage/broker").test(e) && e.data().path("stage").asText()
                        .contains("test-hold"), 1, WAIT);
                stack.restartKafka();
                Files.delete(hold);
                log.await(on(RESULTS, "outage/broker"), 1, WAIT);
                log.drain(Duration.ofSeconds(2));
                log.awaitNoLag("modelpress-compressor", WAIT);
            } finally {
                service.stop();
            }
            for (String id : List.of("outage/broker", "outage/s3-a", "outage/s3-b")) {
                // At least once: a redelivered record is answered from storage with the very same
                // event (same ce_id), so a consumer that deduplicates on ce_id sees one result.
                List<EventLog.Event> results = log.matching(on(RESULTS, id));
                assertEquals(1, results.stream().map(event -> event.header("ce_id")).distinct().count(),
                        () -> id + ": one result event id: " + results);
                assertEquals(List.of(), log.matching(on(FAILURES, id)), id + ": no failure");
            }
            String serviceLog = new String(Files.readAllBytes(LOGS.resolve("outages.log")), StandardCharsets.UTF_8);
            assertFalse(serviceLog.contains(stack.secretKey()), "the S3 secret appears in no log line");
            for (EventLog.Event event : log.matching(e -> true)) {
                assertFalse(event.data().toString().contains(stack.secretKey()), () -> "no secret in " + event);
            }
            try (var left = Files.walk(temp.resolve("work-outages"))) {
                List<Path> files = left.filter(Files::isRegularFile).toList();
                assertEquals(List.of(), files, "every job's files are removed, the failed attempts' included");
            }
            assertEquals(1, log.matching(on(RESULTS, "outage/broker")).stream().filter(event -> !event.data()
                    .path("replayed").asBoolean()).count(), "computed once; any repeat is answered from storage");
            // Stored once: one content-addressed folder per profile with its model and one report.
            Map<String, String> stored = Fixtures.list(s3, "registry/faults/1/modelpress/x86-vnni/");
            assertTrue(stored.keySet().stream().anyMatch(key -> key.endsWith("/model.onnx")), () -> stored.toString());
        }
    }

    private static List<Path> runFolders(Path work) throws IOException {
        try (var folders = Files.list(work)) {
            return folders.filter(path -> path.getFileName().toString().startsWith(WorkFolder.RUN_PREFIX)).toList();
        }
    }

    private static String event(String id, String... chain) {
        return Fixtures.withChain(Fixtures.unsigned(id, uri, "x86-vnni").put("sha256", sha), chain).toString();
    }

    private static void awaitLog(Service service, String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!service.read().contains(text)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the log never said '" + text + "':\n" + service.read());
            }
            Thread.sleep(200);
        }
    }

    private static Map<String, String> environment(String work) {
        Map<String, String> environment = LocalStackResource.serviceEnvironment(stack, temp.resolve(work));
        environment.put("MODELPRESS_PLUGINS_DIR", plugins.toString());
        environment.put("MODELPRESS_PLUGINS_ALLOWED", TestPluginJars.allowingAll(plugins));
        environment.put("MODELPRESS_INPUTS_ALLOWED", LocalStackResource.BUCKET + "/registry/");
        environment.put("MODELPRESS_SHUTDOWN_GRACE", "1s");
        environment.put("MODELPRESS_PROGRESS_INTERVAL", "200ms");
        environment.put("MODELPRESS_FAULTS_MAX_CRASHES", "2");
        environment.put("MODELPRESS_FAULTS_BACKOFF_MAX_DURATION", "4s");
        environment.put("MODELPRESS_FAULTS_BACKOFF_MAX_DELAY", "1s");
        environment.put("MODELPRESS_S3_TIMEOUT", "3s");
        environment.put("MODELPRESS_FAULTS_RETRY_TOPICS", "modelpress.model-registered-retry_10000,"
                + "modelpress.model-registered-retry_20000,modelpress.model-registered-retry_40000");
        environment.put("QUARKUS_HTTP_PORT", "0");
        return environment;
    }

    /** The test plugins as a third-party jar in the plugins folder. */
    private static Path pluginJar(Path folder) throws IOException, URISyntaxException {
        Files.createDirectories(folder);
        Path classes = Path.of(HoldPlugin.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path jar = folder.resolve("test-plugins.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new JarEntry("META-INF/services/io.modelpress.spi.CompressionPlugin"));
            out.write((HoldPlugin.class.getName() + "\n" + ErrorPlugin.class.getName() + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
            for (Class<?> plugin : List.of(HoldPlugin.class, ErrorPlugin.class)) {
                String entry = plugin.getName().replace('.', '/') + ".class";
                out.putNextEntry(new JarEntry(entry));
                out.write(Files.readAllBytes(classes.resolve(entry)));
                out.closeEntry();
            }
        }
        return folder;
    }
}

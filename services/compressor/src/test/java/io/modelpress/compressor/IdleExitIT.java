package io.modelpress.compressor;

import static io.modelpress.compressor.EventLog.FAILURES;
import static io.modelpress.compressor.EventLog.IN;
import static io.modelpress.compressor.EventLog.RESULTS;
import static io.modelpress.compressor.EventLog.on;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.minio.MinioClient;
import io.modelpress.compressor.ServiceRestartIT.Service;
import io.modelpress.localstack.LocalStack;
import io.modelpress.testkit.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MODELPRESS_EXIT_WHEN_IDLE, as a Job's pod runs it: the packaged service takes the models waiting
 * on the topic, publishes their results, then stops by itself with exit code 0 and every record
 * committed; a model registered after it stopped is taken by the next instance, not lost; and an
 * instance that sent a model to a retry topic waits for its redelivery before it exits.
 */
class IdleExitIT {

    private static final Duration WAIT = Duration.ofSeconds(180);
    private static final String GROUP = "modelpress-compressor";
    private static final List<String> RETRY_TOPICS = List.of("modelpress.model-registered-retry_5000",
            "modelpress.model-registered-retry_10000", "modelpress.model-registered-retry_15000");
    private static final String IDLE_LINE = "(modelpress.exit-when-idle): stopping; no new model is started";

    @TempDir
    static Path temp;

    private static LocalStack stack;
    private static MinioClient s3;

    @BeforeAll
    static void startStack() throws Exception {
        stack = LocalStack.start(temp.resolve("stack"));
        s3 = LocalStackResource.withBucket(stack);
        // The input topic as the service would create it, so that models can wait on it before any instance runs.
        Properties admin = new Properties();
        admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
        try (Admin client = Admin.create(admin)) {
            client.createTopics(List.of(new NewTopic(IN, Optional.of(6), Optional.empty()))).all().get(30, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stopStack() {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void theServiceTakesWhatWaitsThenExitsByItselfAndWhatComesLaterIsTakenByTheNextInstance() throws Exception {
        String uri = Fixtures.storeWithExternalData(s3, TestModels.mlp(8, 16, 3, 5), "registry/idle/1", temp);
        String sha = Fixtures.sha256Of(s3, uri);
        try (EventLog log = new EventLog(stack.bootstrapServers())) {
            // Two models wait on the topic before the instance starts, as when KEDA starts a Job for them.
            for (String id : List.of("idle/first", "idle/second")) {
                log.sendBinary(id, "registered-" + id, event(id, uri, sha));
            }
            Service first = Service.launch(environment(), List.of(), temp.resolve("first.log"));
            try {
                awaitResult(log, first, "idle/first");
                awaitResult(log, first, "idle/second");
                assertEquals(0, first.awaitExit(WAIT), () -> "exit code of an idle stop:\n" + first.read());
            } finally {
                stopIfAlive(first);
            }
            String firstLog = first.read();
            assertTrue(firstLog.contains(IDLE_LINE), () -> "the log says why it stopped:\n" + firstLog);
            log.awaitNoLag(GROUP, Duration.ofSeconds(30));
            log.drain(Duration.ofSeconds(1));
            for (String id : List.of("idle/first", "idle/second")) {
                assertEquals(1, log.matching(on(RESULTS, id)).size(), id + ": one result");
                assertEquals(List.of(), log.matching(on(FAILURES, id)));
            }

            // Registered while no instance runs: it waits on the topic for the next one.
            log.sendBinary("idle/later", "registered-idle/later", event("idle/later", uri, sha));
            Service second = Service.launch(environment(), List.of(), temp.resolve("second.log"));
            try {
                awaitResult(log, second, "idle/later");
                assertEquals(0, second.awaitExit(WAIT), () -> "exit code of an idle stop:\n" + second.read());
            } finally {
                stopIfAlive(second);
            }
            assertTrue(second.read().contains(IDLE_LINE), second::read);
            log.awaitNoLag(GROUP, Duration.ofSeconds(30));
            log.drain(Duration.ofSeconds(1));
            assertEquals(1, log.matching(on(RESULTS, "idle/later")).size(), "one result for the later model");
            assertEquals(1, log.matching(on(RESULTS, "idle/first")).size(), "the first models were not redone");
            assertTrue(Files.readString(temp.resolve("second.log")).contains("idle/later"));

            // A model that an S3 outage sends to a retry topic: the instance waits for the redelivery
            // instead of exiting while the record waits out its delay there.
            Map<String, String> retrying = environment();
            retrying.put("MODELPRESS_FAULTS_RETRY_TOPICS", String.join(",", RETRY_TOPICS));
            retrying.put("MODELPRESS_FAULTS_BACKOFF_MAX_DURATION", "2s");
            retrying.put("MODELPRESS_FAULTS_BACKOFF_MAX_DELAY", "1s");
            retrying.put("MODELPRESS_S3_TIMEOUT", "2s");
            stack.stopS3();
            log.sendBinary("idle/retried", "registered-idle/retried", event("idle/retried", uri, sha));
            Service third = Service.launch(retrying, List.of(), temp.resolve("third.log"));
            try {
                try {
                    await(third, "sent again later");
                    // Longer than the idle time: were the redelivery not counted as work, it would exit now.
                    Thread.sleep(Duration.ofSeconds(8).toMillis());
                    assertTrue(third.process().isAlive(), () -> "exited with a redelivery waiting:\n" + third.read());
                } finally {
                    stack.startS3();
                }
                awaitResult(log, third, "idle/retried");
                assertEquals(0, third.awaitExit(WAIT), () -> "exit code of an idle stop:\n" + third.read());
            } finally {
                stopIfAlive(third);
            }
            assertTrue(third.read().contains(IDLE_LINE), third::read);
            log.awaitNoLag(GROUP, Duration.ofSeconds(30));
            log.drain(Duration.ofSeconds(1));
            assertEquals(1, log.matching(on(RESULTS, "idle/retried")).size());
            assertEquals(List.of(), log.matching(on(FAILURES, "idle/retried")));
            // The connector reads the retry topics back in a group of its own, which the deployment's ACLs allow.
            Set<String> retryCommits = log.committed("kafka-delayed-retry-topic-" + GROUP).keySet().stream()
                    .map(TopicPartition::topic).collect(Collectors.toSet());
            assertTrue(RETRY_TOPICS.stream().anyMatch(retryCommits::contains), () -> "retry commits: " + retryCommits);
        }
    }

    /** Waits for the model's result; without one, the service's log says why. */
    private static void awaitResult(EventLog log, Service service, String model) {
        try {
            log.await(on(RESULTS, model), 1, WAIT);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\nthe service's log:\n" + service.read(), e);
        }
    }

    /** Waits until the service's log holds the text. */
    private static void await(Service service, String text) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!service.read().contains(text)) {
            assertTrue(System.nanoTime() < deadline, () -> "no \"" + text + "\" in the log:\n" + service.read());
            assertTrue(service.process().isAlive(), () -> "exited before \"" + text + "\":\n" + service.read());
            Thread.sleep(200);
        }
    }

    private static String event(String id, String uri, String sha) {
        return Fixtures.withChain(Fixtures.unsigned(id, uri, "x86-vnni").put("sha256", sha), "graph-cleanup").toString();
    }

    private static void stopIfAlive(Service service) throws InterruptedException {
        if (service.process().isAlive()) {
            service.stop();
        }
    }

    private static Map<String, String> environment() {
        Map<String, String> environment = LocalStackResource.serviceEnvironment(stack, temp.resolve("work"));
        environment.put("MODELPRESS_EXIT_WHEN_IDLE", "4s");
        environment.put("MODELPRESS_SHUTDOWN_GRACE", "5s");
        return environment;
    }
}

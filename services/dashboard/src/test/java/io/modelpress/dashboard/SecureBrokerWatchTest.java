package io.modelpress.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.localstack.LocalStack;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The broker check with the shared Kafka settings of a SASL_SSL deployment (SCRAM-SHA-512, a private CA). */
class SecureBrokerWatchTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path temp;

    @Test
    void theBrokerAnswersOverSaslSslAndARefusedLoginIsShownWithItsReason() throws Exception {
        try (LocalStack stack = LocalStack.builder().workFolder(temp.resolve("stack")).s3(false).tls(true).start()) {
            Map<String, Object> settings = stack.kafkaClientSettings();
            DashboardView.Broker answered = watch(settings);
            assertEquals(Boolean.TRUE, answered.reachable(), () -> "broker: " + answered);

            Map<String, Object> wrong = new HashMap<>(settings);
            wrong.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                    + stack.kafkaUser() + "\" password=\"not-the-password\";");
            DashboardView.Broker refused = watch(wrong);
            assertEquals(Boolean.FALSE, refused.reachable(), () -> "broker: " + refused);
            assertTrue(refused.error().contains("Authentication"), refused.error());
        }
    }

    /** Runs the check until it has an answer; what it says of the broker. */
    private static DashboardView.Broker watch(Map<String, Object> kafka) throws InterruptedException {
        DashboardState state = new DashboardState(10, String.valueOf(kafka.get("bootstrap.servers")), Clock.systemUTC());
        BrokerWatch watch = new BrokerWatch(state, kafka, 1000);
        watch.start(null);
        try {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (state.view().broker().reachable() == null && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            return state.view().broker();
        } finally {
            watch.stop(null);
        }
    }
}

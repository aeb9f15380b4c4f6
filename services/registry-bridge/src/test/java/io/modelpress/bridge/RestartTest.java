package io.modelpress.bridge;

import static io.modelpress.bridge.BridgeTestResource.SECRET;
import static io.modelpress.bridge.Fixtures.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.bridge.registry.Bridge;
import io.modelpress.bridge.registry.BridgeSettings;
import io.modelpress.bridge.registry.KafkaEventSink;
import io.modelpress.bridge.registry.MlflowClient;
import io.modelpress.bridge.registry.ModelStatus;
import io.modelpress.bridge.registry.ObjectStore;
import io.modelpress.bridge.registry.WebhookReceiver;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A bridge that stops after answering a delivery and before publishing its event: the next bridge on the
 * same data folder publishes it, once, and still knows the delivery id. Runs the library itself (two
 * bridges, one after the other) against the same real broker, S3 server and MLflow double.
 */
@QuarkusTest
class RestartTest {

    private static Bridge bridge(Path data) {
        BridgeSettings settings = new BridgeSettings(data, BridgeTestResource.BUCKET, "registry", 1_000_000,
                List.of("x86-vnni"), Optional.of(SECRET), Duration.ofMinutes(5), Optional.empty(), Optional.empty(),
                Duration.ofMillis(200), Duration.ofMinutes(1), 5, false, "/test/restart", Topics.REGISTERED);
        ObjectStore store = new ObjectStore(BridgeTestResource.stack.s3Endpoint().toString(),
                BridgeTestResource.stack.accessKey(), BridgeTestResource.stack.secretKey(), "us-east-1");
        MlflowClient mlflow = new MlflowClient(BridgeTestResource.mlflow.url(), Optional.empty(), Duration.ofSeconds(10));
        return new Bridge(settings, Optional.of(mlflow), store, new KafkaEventSink(
                BridgeTestResource.stack.bootstrapServers(), Topics.REGISTERED, "/test/restart", Duration.ofSeconds(30)),
                Clock.systemUTC());
    }

    @Test
    void aDeliveryAcceptedBeforeARestartIsPublishedOnceAfterIt() throws Exception {
        String name = "restarted-model";
        BridgeTestResource.mlflow.addVersion(name, "1", Fixtures.putS3Model("restarted/1", Fixtures.bytes(900, 9),
                null), Map.of());
        Path data = BridgeTestResource.work.resolve("restart-bridge");
        MlflowDouble.Delivery delivery = MlflowDouble.delivery(SECRET, "model_version", "created",
                MlflowDouble.versionCreated(name, "1", "models:/m-1", Map.of()));

        // accepted and answered, then the bridge stops before its workers ever ran
        try (Bridge first = bridge(data)) {
            WebhookReceiver.Answer answer = first.webhooks().receive(delivery.id(), delivery.timestamp(),
                    delivery.signature(), delivery.body());
            assertEquals(202, answer.status(), answer.message());
        }
        assertEquals(0, Topics.read(Topics.REGISTERED, name).size(), "nothing published before the restart");

        try (Bridge second = bridge(data)) {
            second.start();
            await("published after the restart", () -> second.status().get(name, "1")
                    .map(s -> ModelStatus.PUBLISHED.equals(s.state())).orElse(false));
            // MLflow retries the same delivery against the new bridge: still a duplicate
            WebhookReceiver.Answer retry = second.webhooks().receive(delivery.id(), delivery.timestamp(),
                    delivery.signature(), delivery.body());
            assertEquals("duplicate", retry.outcome());
            assertTrue(second.journal().pending().isEmpty());
        }
        List<Topics.Event> events = Topics.read(Topics.REGISTERED, name);
        assertEquals(1, events.size(), "published exactly once");
        assertEquals("/test/restart", events.get(0).headers().get("ce_source"));
    }
}

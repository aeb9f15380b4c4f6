package io.modelpress.bridge.registry;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Takes one accepted delivery one step: resolve the version, bring its files, publish model-registered. */
public final class DeliveryProcessor {

    /** What came of one attempt. */
    public sealed interface Outcome permits Published, Wait, Failed {
    }

    /** The event was published; {@code data} is what was sent. */
    public record Published(String eventId, ObjectNode data) implements Outcome {
    }

    /** Not yet: try again at {@code next}. */
    public record Wait(Instant next, String why) implements Outcome {
    }

    /** Given up, with the reason. */
    public record Failed(String reason) implements Outcome {
    }

    private final BridgeSettings settings;
    private final Optional<MlflowClient> mlflow;
    private final ModelDirectory directory;
    private final EventSink sink;
    private final Clock clock;

    public DeliveryProcessor(BridgeSettings settings, Optional<MlflowClient> mlflow, ModelDirectory directory,
            EventSink sink, Clock clock) {
        this.settings = requireNonNull(settings, "settings is null");
        this.mlflow = requireNonNull(mlflow, "mlflow is null");
        this.directory = requireNonNull(directory, "directory is null");
        this.sink = requireNonNull(sink, "sink is null");
        this.clock = requireNonNull(clock, "clock is null");
    }

    public Outcome process(Delivery delivery) {
        try {
            ObjectNode data = Delivery.MLFLOW.equals(delivery.source()) ? resolve(delivery) : upload(delivery);
            if (data == null) {
                Instant next = clock.instant().plus(settings.pendingPoll());
                return new Wait(next, delivery.name() + "/" + delivery.version() + " is still " + ModelVersion.PENDING);
            }
            String id = delivery.source() + "-" + delivery.key();
            sink.publish(data.get("modelId").asText(), id, data);
            return new Published(id, data);
        } catch (RegistryException e) {
            if (!e.retryable()) {
                return new Failed(e.getMessage());
            }
            if (delivery.attempts() + 1 >= settings.maxAttempts()) {
                return new Failed("gave up after " + (delivery.attempts() + 1) + " attempts: " + e.getMessage());
            }
            long seconds = Math.min(60, 1L << Math.min(delivery.attempts(), 6));
            return new Wait(clock.instant().plus(Duration.ofSeconds(seconds)), e.getMessage());
        }
    }

    /** The event for an MLflow version, or null while it is still pending registration. */
    private ObjectNode resolve(Delivery delivery) {
        MlflowClient client = mlflow.orElseThrow(() -> new RegistryException("no MLflow URL is configured"
                + " (modelpress.bridge.mlflow.url)", false));
        ModelVersion version = client.getModelVersion(delivery.name(), delivery.version());
        String what = delivery.name() + "/" + delivery.version();
        if (ModelVersion.PENDING.equals(version.status())) {
            if (clock.instant().isAfter(delivery.acceptedAt().plus(settings.pendingTimeout()))) {
                throw new RegistryException("MLflow still reports " + what + " as " + ModelVersion.PENDING + " after "
                        + settings.pendingTimeout().toSeconds() + " s (modelpress.bridge.pending-timeout)", false);
            }
            return null;
        }
        if (ModelVersion.FAILED.equals(version.status())) {
            throw new RegistryException("MLflow failed to register " + what + " (" + ModelVersion.FAILED + ")"
                    + (version.statusMessage() == null ? "" : ": " + version.statusMessage()), false);
        }
        String uri = client.getDownloadUri(delivery.name(), delivery.version());
        ModelDirectory.Copied copied = directory.bring(uri, settings.copyPrefix() + "/mlflow/" + delivery.name() + "/"
                + delivery.version());
        return RegisteredEvents.fromMlflow(version, copied, settings.defaultProfiles());
    }

    private static ObjectNode upload(Delivery delivery) {
        if (!(delivery.event() instanceof ObjectNode data)) {
            throw new RegistryException("upload " + delivery.deliveryId() + " carries no event", false);
        }
        RegisteredEvents.check(data, "upload");
        return data;
    }

    /** The profiles an event asks for (empty: the compressor's defaults). */
    public static List<String> profiles(JsonNode data) {
        List<String> profiles = new ArrayList<>();
        data.path("profiles").forEach(p -> profiles.add(p.asText()));
        return profiles;
    }
}

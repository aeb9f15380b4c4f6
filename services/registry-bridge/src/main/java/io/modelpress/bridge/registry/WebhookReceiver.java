package io.modelpress.bridge.registry;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Checks an MLflow webhook delivery and decides what it asks for. Order: signature (401), freshness of
 * the timestamp (401), the body (400), the entity and action (200, ignored when not ours), then the
 * journal (202 accepted, or 200 duplicate for a delivery id seen before).
 */
public final class WebhookReceiver {

    /** The answer to MLflow: HTTP status, {@code outcome} and a one-line message. */
    public record Answer(int status, String outcome, String message) {
    }

    private final BridgeSettings settings;
    private final Predicate<Delivery> accept;
    private final Clock clock;

    /** {@code accept} journals a new delivery and returns false for one seen before. */
    public WebhookReceiver(BridgeSettings settings, Predicate<Delivery> accept, Clock clock) {
        this.settings = requireNonNull(settings, "settings is null");
        this.accept = requireNonNull(accept, "accept is null");
        this.clock = requireNonNull(clock, "clock is null");
    }

    public Answer receive(String deliveryId, String timestamp, String signature, byte[] body) {
        requireNonNull(body, "body is null");
        if (deliveryId == null || deliveryId.isBlank()) {
            return new Answer(400, "rejected", "header X-MLflow-Delivery-Id is missing");
        }
        if (settings.webhookSecret().isPresent()) {
            if (signature == null || signature.isBlank() || timestamp == null || timestamp.isBlank()) {
                return new Answer(401, "rejected", "unsigned delivery: X-MLflow-Signature and X-MLflow-Timestamp are"
                        + " required when a webhook secret is set");
            }
            if (!WebhookSignature.matches(settings.webhookSecret().get(), deliveryId, timestamp, body, signature)) {
                return new Answer(401, "rejected", "header X-MLflow-Signature does not match the body (wrong secret,"
                        + " or the body was changed)");
            }
        }
        if (timestamp != null && !timestamp.isBlank()) {
            Optional<Answer> stale = freshness(timestamp);
            if (stale.isPresent()) {
                return stale.get();
            }
        }
        JsonNode payload;
        try {
            payload = Json.mapper().readTree(body);
        } catch (IOException e) {
            return new Answer(400, "rejected", "the body is not JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (payload == null || !payload.isObject()) {
            return new Answer(400, "rejected", "the body is not a JSON object");
        }
        Optional<String> entity = Json.text(payload, "entity");
        Optional<String> action = Json.text(payload, "action");
        JsonNode data = payload.get("data");
        if (entity.isEmpty() || action.isEmpty() || data == null || !data.isObject()) {
            return new Answer(400, "rejected", "the body needs 'entity', 'action' and an object 'data'");
        }
        String event = entity.get() + "." + action.get();
        Optional<String> reason = wanted(event, data);
        if (reason.isPresent()) {
            return new Answer(200, "ignored", reason.get());
        }
        Optional<String> name = Json.text(data, "name");
        Optional<String> version = Json.text(data, "version");
        if (name.isEmpty() || version.isEmpty()) {
            return new Answer(400, "rejected", event + " needs data.name and data.version");
        }
        Instant now = clock.instant();
        Delivery delivery = new Delivery(Delivery.mlflowKey(deliveryId), Delivery.MLFLOW, deliveryId,
                name.get(), version.get(), event, now, 0, now, null);
        if (!accept.test(delivery)) {
            return new Answer(200, "duplicate", "delivery " + deliveryId + " was accepted before");
        }
        return new Answer(202, "accepted", event + " for " + name.get() + "/" + version.get() + " queued");
    }

    private Optional<Answer> freshness(String timestamp) {
        long seconds;
        try {
            seconds = Long.parseLong(timestamp.trim());
        } catch (NumberFormatException e) {
            return Optional.of(new Answer(400, "rejected", "header X-MLflow-Timestamp '" + timestamp
                    + "' is not Unix seconds"));
        }
        long age = clock.instant().getEpochSecond() - seconds;
        if (Math.abs(age) > settings.timestampTolerance().toSeconds()) {
            return Optional.of(new Answer(401, "rejected", "header X-MLflow-Timestamp is " + Math.abs(age) + " s "
                    + (age > 0 ? "old" : "ahead") + ", outside the " + settings.timestampTolerance().toSeconds()
                    + " s window: refused as a possible replay"));
        }
        return Optional.empty();
    }

    /** Empty when the event starts a compression; else why it is ignored. */
    private Optional<String> wanted(String event, JsonNode data) {
        switch (event) {
            case "model_version.created":
                return Optional.empty();
            case "model_version_tag.set": {
                if (settings.triggerTag().isEmpty()) {
                    return Optional.of("model_version_tag.set is not a trigger: no trigger tag is configured");
                }
                String[] trigger = settings.triggerTag().get().split("=", 2);
                boolean keyMatches = trigger[0].equals(Json.text(data, "key").orElse(""));
                boolean valueMatches = trigger.length == 1 || trigger[1].equals(Json.text(data, "value").orElse(""));
                return keyMatches && valueMatches ? Optional.empty()
                        : Optional.of("tag " + Json.text(data, "key").orElse("?") + " is not the trigger tag");
            }
            case "model_version_alias.created": {
                if (settings.triggerAlias().isEmpty()) {
                    return Optional.of("model_version_alias.created is not a trigger: no trigger alias is configured");
                }
                return settings.triggerAlias().get().equals(Json.text(data, "alias").orElse("")) ? Optional.empty()
                        : Optional.of("alias " + Json.text(data, "alias").orElse("?") + " is not the trigger alias");
            }
            default:
                return Optional.of("event " + event + " is not one the bridge acts on");
        }
    }
}

package io.modelpress.bridge.registry;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/**
 * One accepted piece of work, as the journal keeps it until its event is published (or it fails).
 *
 * @param key the journal's name for it, unique per delivery id (MLflow) or per model and version (uploads)
 * @param source {@code mlflow}: resolve the version through MLflow first; {@code upload}: {@code event} is ready
 * @param deliveryId MLflow's delivery id, or the upload's id
 * @param name the registered model's name (the model id of the event)
 * @param version the version
 * @param trigger what started it, e.g. {@code model_version.created}
 * @param acceptedAt when the bridge accepted it
 * @param attempts attempts so far that failed with a retryable error
 * @param notBefore when to try next
 * @param event for uploads, the model-registered data to publish; null for MLflow deliveries
 */
public record Delivery(String key, String source, String deliveryId, String name, String version, String trigger,
        Instant acceptedAt, int attempts, Instant notBefore, JsonNode event) {

    public static final String MLFLOW = "mlflow";
    public static final String UPLOAD = "upload";

    public Delivery {
        requireNonNull(key, "key is null");
        requireNonNull(source, "source is null");
        requireNonNull(deliveryId, "deliveryId is null");
        requireNonNull(name, "name is null");
        requireNonNull(version, "version is null");
        requireNonNull(trigger, "trigger is null");
        requireNonNull(acceptedAt, "acceptedAt is null");
        requireNonNull(notBefore, "notBefore is null");
    }

    /** The journal key of an MLflow delivery id. */
    public static String mlflowKey(String deliveryId) {
        return MLFLOW + "-" + StatusStore.digest(deliveryId);
    }

    /** The journal key of an upload of this model version. */
    public static String uploadKey(String modelId, String version) {
        return UPLOAD + "-" + StatusStore.digest(modelId + "\0" + version);
    }

    /** The same delivery, to be tried again at {@code next}; {@code failed} counts a retryable failure. */
    public Delivery later(Instant next, boolean failed) {
        return new Delivery(key, source, deliveryId, name, version, trigger, acceptedAt, attempts + (failed ? 1 : 0), next,
                event);
    }
}

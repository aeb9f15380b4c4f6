package io.modelpress.dashboard;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/**
 * One readable event of a topic.
 *
 * @param kind which topic it came from
 * @param modelId the model it is about (the data's, else the record key)
 * @param version the model's version ("" when a failure came before the version was known)
 * @param time when it happened: the data's own time field, else the CloudEvent's time, else the record's
 * @param data the event's JSON data
 */
public record Event(EventKind kind, String modelId, String version, Instant time, JsonNode data) {

    public Event {
        requireNonNull(kind, "kind is null");
        requireNonNull(modelId, "modelId is null");
        requireNonNull(version, "version is null");
        requireNonNull(time, "time is null");
        requireNonNull(data, "data is null");
    }

    /** The profile it belongs to, or null for a model-wide event. */
    public String profile() {
        JsonNode profile = data.get("profile");
        return profile != null && profile.isTextual() ? profile.asText() : null;
    }
}

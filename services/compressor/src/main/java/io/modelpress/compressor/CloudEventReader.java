package io.modelpress.compressor;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.modelpress.common.EventSchemas;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Reads a model-registered CloudEvent from a Kafka record: binary mode (attributes in {@code ce_*}
 * headers, the data as the value), structured mode (content type {@code application/cloudevents+json},
 * the whole event as the value), or, for registries that send no envelope, plain JSON data.
 */
public final class CloudEventReader {

    public static final String TYPE = "io.modelpress.model.registered";
    private static final String STRUCTURED = "application/cloudevents+json";

    private CloudEventReader() {
    }

    /**
     * What was read: the model, or the failure with whatever could be learnt of the model's identity.
     */
    public record Read(Optional<RegisteredModel> model, Optional<JobFailure> failure, Optional<String> modelId,
            Optional<String> version, Optional<String> eventId) {
    }

    public static Read read(IncomingRecord record) {
        Optional<String> text = record.text();
        if (text.isEmpty()) {
            return failed(new JobFailure(Stage.RECEIVE, false, "the record value is not UTF-8 text, so not JSON"),
                    null, Optional.empty());
        }
        JsonNode value;
        try {
            value = EventJson.mapper().readTree(text.get());
        } catch (JsonProcessingException e) {
            return failed(new JobFailure(Stage.RECEIVE, false, "the record value is not JSON: "
                    + e.getOriginalMessage().replaceAll("\\s+", " ")), null, record.header("ce_id"));
        }
        if (value == null || value.isMissingNode()) {
            return failed(new JobFailure(Stage.RECEIVE, false, "the record value is empty"), null, record.header("ce_id"));
        }
        boolean binary = record.header("ce_specversion").isPresent();
        boolean structured = !binary && (record.header("content-type").map(type -> type.toLowerCase(Locale.ROOT)
                .startsWith(STRUCTURED)).orElse(false) || value.has("specversion") && value.has("type"));
        Optional<String> id;
        Optional<String> type;
        Optional<String> specVersion;
        JsonNode data;
        if (structured) {
            id = text(value, "id");
            type = text(value, "type");
            specVersion = text(value, "specversion");
            data = value.get("data");
            if (data == null && value.has("data_base64")) {
                return failed(new JobFailure(Stage.RECEIVE, false, "structured event " + id.orElse("")
                        + " carries data_base64; send the data as JSON in 'data'"), null, id);
            }
            if (data == null) {
                return failed(new JobFailure(Stage.RECEIVE, false, "structured event " + id.orElse("") + " has no 'data'"),
                        null, id);
            }
        } else {
            id = record.header("ce_id");
            type = record.header("ce_type");
            specVersion = record.header("ce_specversion");
            data = value;
        }
        if (specVersion.isPresent() && !specVersion.get().startsWith("1.")) {
            return failed(new JobFailure(Stage.RECEIVE, false, "CloudEvents spec version " + specVersion.get()
                    + " is not supported; send 1.0"), data, id);
        }
        if (type.isPresent() && !type.get().equals(TYPE)) {
            return failed(new JobFailure(Stage.RECEIVE, false, "event type '" + type.get() + "' is not " + TYPE), data, id);
        }
        List<String> problems = EventSchemas.validate(EventSchemas.MODEL_REGISTERED, data);
        if (!problems.isEmpty()) {
            return failed(new JobFailure(Stage.VALIDATE, false, "the event data does not match model-registered.schema.json: "
                    + String.join("; ", problems)), data, id);
        }
        try {
            RegisteredModel model = EventJson.mapper().treeToValue(data, RegisteredModel.class);
            return new Read(Optional.of(model), Optional.empty(), Optional.of(model.modelId()),
                    Optional.of(model.version()), id);
        } catch (JsonProcessingException e) {
            return failed(new JobFailure(Stage.VALIDATE, false, "the event data cannot be read: "
                    + e.getOriginalMessage()), data, id);
        }
    }

    private static Read failed(JobFailure failure, JsonNode data, Optional<String> id) {
        Optional<String> modelId = data == null ? Optional.empty() : text(data, "modelId");
        Optional<String> version = data == null ? Optional.empty() : text(data, "version");
        return new Read(Optional.empty(), Optional.of(failure), modelId, version, id);
    }

    private static Optional<String> text(JsonNode node, String field) {
        JsonNode value = node.isObject() ? node.get(field) : null;
        return value != null && value.isTextual() && !value.asText().isBlank() ? Optional.of(value.asText())
                : Optional.empty();
    }
}

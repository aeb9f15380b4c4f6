package io.modelpress.bridge.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Optional;

/** One JSON mapper for the library: its records are written without nulls and read leniently. */
public final class Json {

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .findAndRegisterModules()
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .setSerializationInclusion(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL);

    private Json() {
    }

    public static ObjectMapper mapper() {
        return MAPPER;
    }

    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** A text field of an object, absent when missing, not text or blank. */
    public static Optional<String> text(JsonNode node, String field) {
        JsonNode value = node != null && node.isObject() ? node.get(field) : null;
        return value != null && value.isValueNode() && !value.isNull() && !value.asText().isBlank()
                ? Optional.of(value.asText()) : Optional.empty();
    }

    /** The node at a path of fields, or a missing node. */
    public static JsonNode at(JsonNode node, String... fields) {
        JsonNode current = node;
        for (String field : fields) {
            current = current == null ? null : current.path(field);
        }
        return current == null ? MAPPER.missingNode() : current;
    }
}

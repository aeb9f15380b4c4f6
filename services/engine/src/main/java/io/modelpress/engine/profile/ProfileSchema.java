package io.modelpress.engine.profile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonNodePath;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

/**
 * The packaged {@code hardware-profile.schema.json} and the translation of its findings into
 * one-line problems a profile owner can act on: {@code precisions[1]: 'int3' is not one of fp32,
 * fp16, bf16, int8, int4} rather than networknt's {@code $.precisions[1]: does not have a value in
 * the enumeration [...]}.
 *
 * <p>The schema is read from the class path, not from {@code schemas/} on disk, so the engine
 * validates against exactly the copy it was built with.
 */
final class ProfileSchema {

    static final String RESOURCE = "io/modelpress/schemas/hardware-profile.schema.json";

    /** Said again next to a field's problems because its unit is the usual mistake. */
    private static final Map<String, String> HINTS = Map.of(
            "max-accuracy-drop", "in percentage points: 1 is one point, 0.5 half a point",
            "budgets.memory-mb", "in MiB",
            "budgets.size-mb", "in MiB");

    private final JsonNode document;
    private final JsonSchema schema;

    private ProfileSchema(JsonNode document, JsonSchema schema) {
        this.document = Objects.requireNonNull(document, "document is null");
        this.schema = Objects.requireNonNull(schema, "schema is null");
    }

    // Loaded once, on first use: the schema is a constant of the build, and JsonSchema is
    // immutable and safe to share between threads.
    private static final class Holder {
        static final ProfileSchema INSTANCE = load();
    }

    static ProfileSchema get() {
        return Holder.INSTANCE;
    }

    /** The schema document itself, e.g. to read a property's {@code default}. */
    JsonNode document() {
        return document;
    }

    /** Problems of {@code profile} as {@code "path: reason"} lines, sorted by path; empty if valid. */
    List<String> validate(JsonNode profile) {
        Objects.requireNonNull(profile, "profile is null");
        return schema.validate(profile).stream()
                .map(message -> new Problem(path(message.getInstanceLocation()), message))
                .sorted(Comparator.comparing(Problem::path))
                .map(problem -> problem.line(this))
                .distinct()
                .toList();
    }

    private record Problem(String path, ValidationMessage message) {
        String line(ProfileSchema schema) {
            String field = fieldOf(path, message);
            String reason = schema.reason(field, message);
            String hint = HINTS.get(field);
            if (hint != null && !"required".equals(message.getType())) {
                reason += " (" + hint + ")";
            }
            return path.isEmpty() ? reason : path + ": " + reason;
        }

        // The field a problem is about: for required/additionalProperties networknt reports the
        // enclosing object as the location and the field as the property.
        private static String fieldOf(String path, ValidationMessage message) {
            String property = message.getProperty();
            if (property == null) {
                return path;
            }
            return path.isEmpty() ? property : path + "." + property;
        }
    }

    private String reason(String field, ValidationMessage message) {
        JsonNode value = message.getInstanceNode();
        JsonNode rule = message.getSchemaNode();
        return switch (message.getType()) {
            case "required" -> "missing required field '" + property(message) + "'";
            case "additionalProperties" -> "unknown field '" + property(message) + "' (valid: "
                    + String.join(", ", propertiesOf(message.getInstanceLocation())) + ")";
            case "enum" -> show(value) + " is not one of " + StreamSupport.stream(rule.spliterator(), false)
                    .map(JsonNode::asText).collect(Collectors.joining(", "));
            case "type" -> "must be " + typeName(rule) + ", not " + kindOf(value);
            case "exclusiveMinimum" -> "must be greater than " + rule.asText() + ", not " + show(value);
            case "minimum" -> "must be at least " + rule.asText() + ", not " + show(value);
            case "exclusiveMaximum" -> "must be less than " + rule.asText() + ", not " + show(value);
            case "maximum" -> "must be at most " + rule.asText() + ", not " + show(value);
            case "minItems" -> rule.asInt() == 1 ? "must list at least one value"
                    : "must list at least " + rule.asText() + " values";
            case "uniqueItems" -> "lists " + show(firstDuplicate(value)) + " more than once";
            case "maxLength" -> "must be at most " + rule.asText() + " characters long";
            case "pattern" -> switch (field) {
                case "id" -> show(value) + " is not a valid id: use lowercase letters and digits in"
                        + " dash-separated words, starting with a letter, like x86-vnni";
                case "description" -> "must be one line with some text on it";
                default -> show(value) + " does not match " + rule.asText();
            };
            // Keywords the schema does not use today: networknt's words, without its "$.path: ".
            default -> message.getMessage().replaceFirst("^\\S*: ", "");
        };
    }

    private static String property(ValidationMessage message) {
        if (message.getProperty() != null) {
            return message.getProperty();
        }
        Object[] arguments = message.getArguments();
        return arguments != null && arguments.length > 0 ? String.valueOf(arguments[0]) : "?";
    }

    /** The fields the schema declares for the object at {@code location}, for "valid: ..." lists. */
    private List<String> propertiesOf(JsonNodePath location) {
        JsonNode node = document;
        for (int i = 0; i < location.getNameCount(); i++) {
            Object element = location.getElement(i);
            node = element instanceof Integer
                    ? node.path("items")
                    : node.path("properties").path(String.valueOf(element));
        }
        List<String> names = new ArrayList<>();
        node.path("properties").fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** {@code precisions[1]}, {@code budgets.size-mb}; empty for the document itself. */
    static String path(JsonNodePath location) {
        StringBuilder path = new StringBuilder();
        for (int i = 0; i < location.getNameCount(); i++) {
            Object element = location.getElement(i);
            if (element instanceof Integer index) {
                path.append('[').append(index).append(']');
            } else {
                if (path.length() > 0) {
                    path.append('.');
                }
                path.append(element);
            }
        }
        return path.toString();
    }

    private static String typeName(JsonNode rule) {
        if (rule.isArray()) {
            return StreamSupport.stream(rule.spliterator(), false)
                    .map(type -> typeName(type)).collect(Collectors.joining(" or "));
        }
        return switch (rule.asText()) {
            case "object" -> "a mapping of fields";
            case "array" -> "a list";
            case "integer" -> "an integer";
            case "number" -> "a number";
            case "string" -> "text";
            case "boolean" -> "true or false";
            default -> rule.asText();
        };
    }

    private static String kindOf(JsonNode value) {
        if (value == null || value.isNull() || value.isMissingNode()) {
            return "empty";
        }
        if (value.isObject()) {
            return "a mapping";
        }
        if (value.isArray()) {
            return "a list";
        }
        return show(value);
    }

    /** A value as the owner wrote it: text quoted, numbers and booleans bare. */
    static String show(JsonNode value) {
        if (value == null || value.isNull() || value.isMissingNode()) {
            return "empty";
        }
        if (value.isTextual()) {
            return "'" + value.textValue() + "'";
        }
        return value.isValueNode() ? value.asText() : value.toString();
    }

    private static JsonNode firstDuplicate(JsonNode array) {
        Set<JsonNode> seen = new HashSet<>();
        for (JsonNode item : array) {
            if (!seen.add(item)) {
                return item;
            }
        }
        return array;
    }

    private static ProfileSchema load() {
        ClassLoader loader = ProfileSchema.class.getClassLoader();
        try (InputStream in = loader.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                // Only a broken build gets here: the engine pom packages schemas/ into the jar.
                throw new IllegalStateException("resource " + RESOURCE + " is missing from the class path");
            }
            JsonNode document = new ObjectMapper().readTree(in);
            SchemaValidatorsConfig config = SchemaValidatorsConfig.builder().locale(Locale.ROOT).build();
            JsonSchema schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
                    .getSchema(document, config);
            return new ProfileSchema(document, schema);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }
}

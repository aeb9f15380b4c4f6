package io.modelpress.common;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.PathType;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The event schemas of {@code schemas/}, packaged into this module (see its pom) so every service
 * validates against exactly the copy it was built with. Problems name the field as
 * {@code data.labels: must have at most 64 properties}.
 */
public final class EventSchemas {

    public static final String MODEL_REGISTERED = "model-registered";
    public static final String COMPRESSION_RESULT = "compression-result";
    public static final String BENCHMARK = "benchmark";
    public static final String PROGRESS = "progress";
    public static final String FAILURE = "failure";

    private static final String FOLDER = "io/modelpress/common/schemas/";
    private static final Map<String, JsonSchema> SCHEMAS = new ConcurrentHashMap<>();

    private EventSchemas() {
    }

    /** The schema's {@code $id}, given as the CloudEvents {@code dataschema}. */
    public static String uri(String name) {
        return "https://modelpress.io/schemas/" + name + ".schema.json";
    }

    /** Problems as {@code "path: reason"} lines, sorted; empty when the document is valid. */
    public static List<String> validate(String name, JsonNode document) {
        return SCHEMAS.computeIfAbsent(name, EventSchemas::load).validate(document).stream()
                .map(message -> message.getMessage().replaceFirst("^\\$\\.?", "data."))
                .map(line -> line.startsWith("data.: ") ? "data" + line.substring(5) : line)
                .sorted()
                .distinct()
                .toList();
    }

    private static JsonSchema load(String name) {
        String resource = FOLDER + name + ".schema.json";
        try (InputStream in = EventSchemas.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("resource " + resource + " is missing from the class path");
            }
            JsonNode document = new ObjectMapper().readTree(in);
            return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(document,
                    SchemaValidatorsConfig.builder().locale(Locale.ROOT).pathType(PathType.LEGACY).build());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
    }
}

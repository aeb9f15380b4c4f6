package io.modelpress.compressor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.modelpress.common.EventSchemas;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The documents in schemas/ that users read: the examples validate, and the AsyncAPI document says what the code does. */
class SchemaDocumentsTest {

    private static final Path SCHEMAS = Path.of("../../schemas");

    @Test
    void everyEventExampleValidatesAgainstItsSchema() throws IOException {
        for (String schema : List.of(EventSchemas.MODEL_REGISTERED, EventSchemas.COMPRESSION_RESULT, EventSchemas.BENCHMARK,
                EventSchemas.PROGRESS, EventSchemas.FAILURE)) {
            JsonNode example = EventJson.mapper().readTree(SCHEMAS.resolve("examples/" + schema + ".example.json").toFile());
            List<String> problems = EventSchemas.validate(schema, example);
            assertEquals(List.of(), problems, schema + ".example.json");
        }
    }

    @Test
    void theExampleRegistrationIsReadAsTheServiceReadsOne() throws IOException {
        String data = Files.readString(SCHEMAS.resolve("examples/model-registered.example.json"));
        CloudEventReader.Read read = CloudEventReader.read(new IncomingRecord("modelpress.model-registered", 0, 0,
                Optional.of("speech/wakeword-hello"), Map.of("ce_specversion", "1.0",
                        "ce_type", CloudEventReader.TYPE, "ce_id", "example"), data.getBytes(StandardCharsets.UTF_8)));
        assertTrue(read.failure().isEmpty(), () -> "refused: " + read.failure());
        assertEquals(List.of("x86-vnni", "arm64-edge"), read.model().orElseThrow().profiles());
    }

    @Test
    void theAsyncApiDocumentDescribesTheTopicsTypesAndSchemasTheServiceUses() throws IOException {
        JsonNode asyncApi = new ObjectMapper(new YAMLFactory()).readTree(SCHEMAS.resolve("asyncapi.yaml").toFile());
        assertTrue(asyncApi.path("asyncapi").asText().startsWith("3."), "AsyncAPI 3");
        Properties defaults = new Properties();
        try (InputStream in = SchemaDocumentsTest.class.getClassLoader().getResourceAsStream("application.properties")) {
            defaults.load(in);
        }
        assertChannel(asyncApi, "modelRegistered", defaults.getProperty("modelpress.topics.model-registered"),
                CloudEventReader.TYPE, EventSchemas.MODEL_REGISTERED, "receive");
        assertChannel(asyncApi, "compressionResults", defaults.getProperty("modelpress.topics.compression-results"),
                Topic.COMPRESSION_RESULTS.eventType(), Topic.COMPRESSION_RESULTS.schema(), "send");
        assertChannel(asyncApi, "benchmarks", defaults.getProperty("modelpress.topics.benchmarks"),
                Topic.BENCHMARKS.eventType(), Topic.BENCHMARKS.schema(), "send");
        assertChannel(asyncApi, "progress", defaults.getProperty("modelpress.topics.progress"),
                Topic.PROGRESS.eventType(), Topic.PROGRESS.schema(), "send");
        assertChannel(asyncApi, "failures", defaults.getProperty("modelpress.topics.failures"),
                Topic.FAILURES.eventType(), Topic.FAILURES.schema(), "send");
        assertEquals(5, asyncApi.path("channels").size(), "the five topics, no more");
        assertEquals(5, asyncApi.path("operations").size());
    }

    private static void assertChannel(JsonNode asyncApi, String channel, String topic, String eventType, String schema,
            String action) {
        JsonNode node = asyncApi.path("channels").path(channel);
        assertEquals(topic, node.path("address").asText(), channel + ": topic");
        JsonNode messageRef = node.path("messages").elements().next();
        JsonNode message = resolve(asyncApi, messageRef.path("$ref").asText());
        String payload = message.path("payload").path("schema").path("$ref").asText();
        assertEquals("./" + schema + ".schema.json", payload, channel + ": payload schema");
        assertTrue(Files.isRegularFile(SCHEMAS.resolve(payload)), payload + " exists");
        JsonNode headers = resolve(asyncApi, message.path("headers").path("$ref").asText());
        JsonNode own = headers.path("allOf").get(1).path("properties");
        assertEquals(eventType, own.path("ce_type").path("const").asText(), channel + ": ce_type");
        if (own.has("ce_dataschema")) {
            assertEquals(EventSchemas.uri(schema), own.path("ce_dataschema").path("const").asText(), channel + ": dataschema");
        }
        boolean operated = false;
        for (JsonNode operation : asyncApi.path("operations")) {
            if (operation.path("channel").path("$ref").asText().equals("#/channels/" + channel)) {
                assertEquals(action, operation.path("action").asText(), channel + ": the service's action");
                operated = true;
            }
        }
        assertTrue(operated, channel + " has an operation");
    }

    /** A local JSON pointer reference, #/a/b/c. */
    private static JsonNode resolve(JsonNode document, String ref) {
        assertTrue(ref.startsWith("#/"), () -> "a local reference: " + ref);
        JsonNode node = document.at(ref.substring(1));
        assertTrue(!node.isMissingNode(), () -> ref + " resolves");
        return node;
    }
}

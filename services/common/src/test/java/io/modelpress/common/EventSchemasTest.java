package io.modelpress.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The packaged schemas accept the documented examples and name the field of every problem. */
class EventSchemasTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void theDocumentedExampleOfEveryEventIsValid() throws Exception {
        for (String name : List.of(EventSchemas.MODEL_REGISTERED, EventSchemas.COMPRESSION_RESULT, EventSchemas.BENCHMARK,
                EventSchemas.PROGRESS, EventSchemas.FAILURE)) {
            JsonNode example = MAPPER.readTree(Files.readString(example(name)));
            assertEquals(List.of(), EventSchemas.validate(name, example), name);
        }
    }

    @Test
    void aProblemNamesTheFieldUnderData() throws Exception {
        ObjectNode event = (ObjectNode) MAPPER.readTree(Files.readString(example(EventSchemas.MODEL_REGISTERED)));
        event.remove("modelId");
        event.put("version", 42);
        List<String> problems = EventSchemas.validate(EventSchemas.MODEL_REGISTERED, event);
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("data: ") && p.contains("modelId")), problems::toString);
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("data.version: ")), problems::toString);
    }

    private static Path example(String name) {
        return Path.of("..", "..", "schemas", "examples", name + ".example.json");
    }
}

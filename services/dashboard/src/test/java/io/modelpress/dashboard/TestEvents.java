package io.modelpress.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Publishes events as the compressor does (CloudEvents in binary mode, the model id as the key),
 * their data following schemas/: progress and failures as written, results and benchmarks made from
 * a real report.json the way the service makes them.
 */
final class TestEvents implements AutoCloseable {

    static final String RESULTS = "modelpress.compression-results";
    static final String BENCHMARKS = "modelpress.benchmarks";
    static final String PROGRESS = "modelpress.progress";
    static final String FAILURES = "modelpress.failures";

    /** Every event is checked against its schema in schemas/, so the page is tested on what the compressor may send. */
    private static final Map<String, JsonSchema> SCHEMAS = Map.of(RESULTS, schema("compression-result"),
            BENCHMARKS, schema("benchmark"), PROGRESS, schema("progress"), FAILURES, schema("failure"));

    private final ObjectMapper json = new ObjectMapper();
    private final KafkaProducer<String, byte[]> producer;

    TestEvents(String bootstrapServers) {
        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        producer = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
    }

    ObjectMapper json() {
        return json;
    }

    void progress(String model, String version, String profile, int percent, String stage, Instant at) {
        ObjectNode data = json.createObjectNode().put("modelId", model).put("version", version);
        if (profile != null) {
            data.put("profile", profile);
        }
        data.put("stage", stage).put("fraction", percent / 100.0).put("percent", percent).put("message", "")
                .put("at", at.toString());
        send(PROGRESS, "io.modelpress.compression.progress", model, data);
    }

    void failure(String model, String version, String profile, String stage, String reason, boolean retryable, Instant at) {
        ObjectNode data = json.createObjectNode().put("modelId", model).put("version", version);
        if (profile != null) {
            data.put("profile", profile);
        }
        data.put("stage", stage).put("reason", reason).put("retryable", retryable);
        data.putObject("original").put("topic", "modelpress.model-registered").put("partition", 0).put("offset", 7)
                .put("key", model).put("value", "{}").put("valueEncoding", "utf-8").put("valueBytes", 2)
                .put("valueSha256", "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a").put("truncated", false).putObject("headers");
        data.put("failedAt", at.toString());
        send(FAILURES, "io.modelpress.compression.failure", model, data);
    }

    /** The result event of a real report, stored under {@code folder} (an s3:// prefix ending in a slash). */
    ObjectNode result(String model, String version, JsonNode report, String folder, String request,
            Map<String, String> labels, Instant at) {
        JsonNode original = report.path("original");
        JsonNode compressed = report.path("compressed");
        JsonNode planning = report.path("planning");
        ObjectNode data = json.createObjectNode().put("modelId", model).put("version", version)
                .put("profile", report.path("profile").asText()).put("status", report.path("status").asText())
                .put("replayed", false)
                .put("inputDigest", original.path("digest").asText());
        data.set("plan", report.path("plan"));
        data.put("planDigest", "5c0e9a1d2b3f4a67").put("requestDigest", request);
        ObjectNode choice = data.putObject("choice").put("by", "planner").put("metBudget", planning.path("metBudget").asBoolean())
                .put("explanation", planning.path("explanation").asText()).put("dropMeasure", planning.path("dropMeasure").asText());
        ArrayNode candidates = choice.putArray("candidates");
        int chosen = planning.path("chosen").path("index").asInt(-1);
        for (JsonNode trial : planning.path("trials")) {
            ObjectNode candidate = candidates.addObject().put("chain", chain(trial.path("chain")))
                    .put("outcome", trial.path("outcome").asText()).put("chosen", trial.path("index").asInt() == chosen);
            for (String field : new String[] {"bytes", "drop", "latencyMillis"}) {
                if (trial.path(field).isNumber()) {
                    candidate.set(field, trial.path(field));
                }
            }
            candidate.set("violations", trial.path("violations"));
            if (trial.hasNonNull("error")) {
                candidate.put("reason", trial.path("error").asText());
            }
        }
        data.putObject("input").put("artifactUri", folder.substring(0, folder.indexOf("modelpress/")) + "model.onnx")
                .put("digest", original.path("digest").asText()).put("bytes", original.path("bytes").asLong());
        ObjectNode artifact = data.putObject("artifact").put("uri", folder + "model.onnx")
                .put("reportUri", folder + "reports/" + request + ".json").put("digest", compressed.path("digest").asText())
                .put("bytes", compressed.path("bytes").asLong());
        artifact.putArray("files").add("model.onnx").add("reports/" + request + ".json").add("reports/" + request + ".html");
        data.putObject("sizes").put("originalBytes", original.path("bytes").asLong())
                .put("compressedBytes", compressed.path("bytes").asLong())
                .put("sizeRatio", report.path("gains").path("sizeRatio").asDouble())
                .put("bytesSaved", report.path("gains").path("bytesSaved").asLong())
                .put("originalParameters", original.path("parameters").asLong())
                .put("compressedParameters", compressed.path("parameters").asLong())
                .put("parameterRatio", report.path("gains").path("parameterRatio").asDouble());
        data.set("judging", report.path("judging")); // what judged it, as the report says
        data.set("fidelity", withoutNulls(report.path("fidelity")));
        ObjectNode accuracy = data.putObject("accuracy");
        if (report.path("accuracy").isObject()) {
            accuracy.put("measured", true).set("figures", report.path("accuracy").deepCopy());
        } else {
            accuracy.put("measured", false).put("reason", "no evaluation data was given");
        }
        data.putObject("calibration").put("used", true);
        ArrayNode steps = data.putArray("steps");
        for (JsonNode step : report.path("steps")) {
            steps.addObject().put("index", step.path("index").asInt()).put("plugin", step.path("plugin").asText())
                    .put("version", step.path("version").asText()).put("status", "done")
                    .put("changes", step.path("changes").size()).put("skipped", step.path("skipped").size())
                    .put("millis", step.path("millis").asLong());
        }
        ObjectNode labelNode = data.putObject("labels");
        labels.forEach(labelNode::put);
        data.put("processingMillis", report.path("totalMillis").asLong()).put("completedAt", at.toString());
        send(RESULTS, "io.modelpress.compression.result", model, data);
        return data;
    }

    void benchmark(String model, String version, JsonNode report, String request, Instant at) {
        JsonNode bench = report.path("benchmark");
        ObjectNode data = json.createObjectNode().put("modelId", model).put("version", version)
                .put("profile", report.path("profile").asText()).put("replayed", false)
                .put("inputDigest", report.path("original").path("digest").asText());
        data.set("plan", report.path("plan"));
        data.put("planDigest", "5c0e9a1d2b3f4a67").put("requestDigest", request).put("source", "report");
        for (String side : new String[] {"original", "compressed"}) {
            JsonNode facts = report.path(side);
            data.putObject(side).put("digest", facts.path("digest").asText()).put("bytes", facts.path("bytes").asLong())
                    .put("parameters", facts.path("parameters").asLong()).put("weightBytes", facts.path("weightBytes").asLong());
        }
        data.putObject("ratios").put("size", report.path("gains").path("sizeRatio").asDouble())
                .put("parameters", report.path("gains").path("parameterRatio").asDouble());
        data.set("fidelity", withoutNulls(report.path("fidelity").path("outputs")));
        data.put("fidelityData", report.path("fidelity").path("data").asText());
        data.set("environment", report.path("environment"));
        data.put("measuredAt", at.toString());
        ObjectNode latency = data.putObject("latency").put("measured", bench.path("original").isObject());
        latency.set("original", bench.path("original"));
        latency.set("compressed", bench.path("compressed"));
        latency.set("speedup", bench.path("speedup"));
        latency.set("settings", bench.path("settings"));
        latency.set("inputs", bench.path("inputs"));
        latency.set("executionProvider", bench.path("executionProvider"));
        if (bench.hasNonNull("note")) {
            latency.set("note", bench.path("note"));
        }
        send(BENCHMARKS, "io.modelpress.benchmark", model, data);
    }

    /** A record that is no event at all. */
    void garbage(String topic, String text) {
        producer.send(new ProducerRecord<>(topic, "garbage", text.getBytes(StandardCharsets.UTF_8)));
        producer.flush();
    }

    private void send(String topic, String type, String key, JsonNode data) {
        Set<ValidationMessage> errors = SCHEMAS.get(topic).validate(data);
        if (!errors.isEmpty()) {
            throw new IllegalStateException("the test's " + topic + " event breaks its schema: " + errors + "\n" + data);
        }
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, key, bytes(data));
        List<String[]> headers = new ArrayList<>(List.of(new String[] {"ce_specversion", "1.0"},
                new String[] {"ce_id", UUID.randomUUID().toString()}, new String[] {"ce_source", "/modelpress/compressor"},
                new String[] {"ce_type", type}, new String[] {"ce_time", Instant.now().toString()},
                new String[] {"ce_subject", key}, new String[] {"content-type", "application/json"}));
        headers.forEach(header -> record.headers().add(header[0], header[1].getBytes(StandardCharsets.UTF_8)));
        try {
            producer.send(record).get();
        } catch (Exception e) {
            throw new IllegalStateException("cannot publish to " + topic + ": " + e.getMessage(), e);
        }
    }

    /** A copy without null fields: report.json writes absent optionals as null, events leave them out. */
    private static JsonNode withoutNulls(JsonNode node) {
        JsonNode copy = node.deepCopy();
        strip(copy);
        return copy;
    }

    private static void strip(JsonNode node) {
        if (node instanceof ObjectNode object) {
            List<String> nulls = new ArrayList<>();
            object.fields().forEachRemaining(field -> {
                if (field.getValue().isNull()) {
                    nulls.add(field.getKey());
                } else {
                    strip(field.getValue());
                }
            });
            object.remove(nulls);
        } else if (node instanceof ArrayNode array) {
            array.forEach(TestEvents::strip);
        }
    }

    private static JsonSchema schema(String name) {
        try (InputStream in = Files.newInputStream(Path.of("../../schemas", name + ".schema.json"))) {
            return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private byte[] bytes(JsonNode data) {
        try {
            return json.writeValueAsBytes(data);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String chain(JsonNode chain) {
        List<String> steps = new ArrayList<>();
        for (JsonNode step : chain) {
            List<String> options = new ArrayList<>();
            step.path("options").fields().forEachRemaining(option -> options.add(option.getKey() + "=" + option.getValue().asText()));
            steps.add(step.path("pluginId").asText() + (options.isEmpty() ? "" : ":" + String.join(",", options)));
        }
        return String.join(" -> ", steps);
    }

    @Override
    public void close() {
        producer.close();
    }
}

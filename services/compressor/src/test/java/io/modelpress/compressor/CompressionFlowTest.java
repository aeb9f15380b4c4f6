package io.modelpress.compressor;

import static io.modelpress.compressor.EventLog.BENCHMARKS;
import static io.modelpress.compressor.EventLog.FAILURES;
import static io.modelpress.compressor.EventLog.PROGRESS;
import static io.modelpress.compressor.EventLog.RESULTS;
import static io.modelpress.compressor.EventLog.on;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.minio.MinioClient;
import io.modelpress.inference.InputGenerator;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.RunnerOptions;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.RealModels;
import io.modelpress.testkit.TestModels;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@QuarkusTest
@WithTestResource(LocalStackResource.class)
class CompressionFlowTest {

    private static final Duration WAIT = Duration.ofSeconds(120);

    @TempDir
    Path temp;

    @TestHTTPResource("/q/health/ready")
    URL ready;

    @TestHTTPResource("/q/metrics")
    URL metrics;

    private EventLog log;
    private MinioClient s3;

    @BeforeEach
    void connect() {
        log = new EventLog(Fixtures.bootstrapServers());
        s3 = Fixtures.s3();
    }

    @AfterEach
    void disconnect() {
        log.close();
    }

    @Test
    void aModelWithExternalDataYieldsOneResultPerProfileStoredBesideItThatRunsInOnnxRuntime() throws Exception {
        OnnxModel model = TestModels.mlp(16, 32, 4, 11);
        String folder = "registry/flow-mlp/3";
        String uri = Fixtures.storeWithExternalData(s3, model, folder, temp);
        String id = "flow/mlp";
        log.sendBinary(id, "registered-flow-mlp", Fixtures.registered(id, uri, "x86-vnni", "arm64-edge").toString());

        List<EventLog.Event> results = log.await(on(RESULTS, id), 2, WAIT);
        List<EventLog.Event> benchmarks = log.await(on(BENCHMARKS, id), 2, WAIT);
        log.await(event -> on(PROGRESS, id).test(event) && event.data().path("stage").asText().equals("done"), 1, WAIT);
        assertEquals(List.of(), log.matching(on(FAILURES, id)));
        Fixtures.assertAllValid(log.matching(event -> id.equals(event.key())));

        String inputDigest = OnnxModel.load(downloadFolder(folder, temp.resolve("original"), "model.onnx"))
                .sourceDigest().orElseThrow();
        Set<String> profiles = new HashSet<>();
        for (EventLog.Event result : results) {
            JsonNode data = result.data();
            String profile = data.path("profile").asText();
            profiles.add(profile);
            assertEquals(id, result.key());
            assertEquals(id, result.header("ce_subject"));
            assertFalse(data.path("replayed").asBoolean());
            assertEquals(inputDigest, data.path("inputDigest").asText(), "the input digest covers model and external data");
            assertEquals("graph-cleanup", data.path("plan").path(0).path("plugin").asText());
            assertEquals(uri, data.path("input").path("artifactUri").asText());
            assertEquals("tests", data.path("labels").path("team").asText());
            String artifact = data.path("artifact").path("uri").asText();
            String digest = data.path("artifact").path("digest").asText();
            assertEquals("s3://models/" + folder + "/modelpress/" + profile + "/" + digest + "/model.onnx", artifact,
                    "content-addressed key beside the original");
            assertTrue(data.path("sizes").path("compressedBytes").asLong() < data.path("sizes").path("originalBytes").asLong(),
                    "graph-cleanup drops the unused initializer: " + data.path("sizes"));
            assertTrue(data.path("fidelity").path("outputs").path(0).path("minCosine").asDouble() > 0.9999);

            JsonNode report = EventJson.mapper().readTree(Fixtures.get(s3, data.path("artifact").path("reportUri").asText()));
            assertEquals(digest, report.path("compressed").path("digest").asText());
            assertEquals(inputDigest, report.path("original").path("digest").asText());

            Path local = temp.resolve("out-" + profile);
            Files.createDirectories(local);
            Files.write(local.resolve("model.onnx"), Fixtures.get(s3, artifact));
            if (data.path("artifact").has("dataUri")) {
                String dataUri = data.path("artifact").path("dataUri").asText();
                Files.write(local.resolve(dataUri.substring(dataUri.lastIndexOf('/') + 1)), Fixtures.get(s3, dataUri));
            }
            assertSameOutputs(model, local.resolve("model.onnx"));
        }
        assertEquals(Set.of("x86-vnni", "arm64-edge"), profiles);

        for (EventLog.Event benchmark : benchmarks) {
            JsonNode data = benchmark.data();
            assertEquals(inputDigest, data.path("inputDigest").asText());
            assertEquals("graph-cleanup", data.path("plan").path(0).path("plugin").asText());
            assertTrue(data.path("original").path("bytes").asLong() > data.path("compressed").path("bytes").asLong());
            assertTrue(data.path("latency").path("measured").asBoolean(), () -> "latency: " + data.path("latency"));
            assertTrue(data.path("latency").path("compressed").path("p50Millis").asDouble() > 0);
        }
        List<EventLog.Event> progress = log.matching(on(PROGRESS, id));
        assertTrue(progress.stream().anyMatch(event -> event.data().path("stage").asText().startsWith("compress x86-vnni: step")),
                () -> "progress of the chain's steps: " + progress.stream().map(event -> event.data().path("stage").asText()).toList());
        assertTrue(progress.stream().filter(event -> event.data().has("profile")).allMatch(event ->
                event.data().has("inputDigest") && event.data().has("plan")), "progress of a profile carries digest and plan");
    }

    @Test
    void aRealModelSentInStructuredModeIsCompressedForTheDefaultProfile() throws Exception {
        Path file = RealModels.WAKEWORD.copyTo(temp.resolve("wakeword"));
        String uri = Fixtures.storeFile(s3, file, "registry/wakeword/7/model.onnx");
        String id = "flow/wakeword";
        ObjectNode event = EventJson.mapper().createObjectNode();
        event.put("specversion", "1.0");
        event.put("id", "registered-wakeword-7");
        event.put("type", "io.modelpress.model.registered");
        event.put("source", "/test/registry");
        event.put("datacontenttype", "application/json");
        event.set("data", Fixtures.registered(id, uri));
        log.send(id, Map.of("content-type", "application/cloudevents+json; charset=UTF-8"),
                event.toString().getBytes(StandardCharsets.UTF_8));

        EventLog.Event result = log.await(on(RESULTS, id), 1, WAIT).get(0);
        Fixtures.assertValidEvent(result, "io.modelpress.compression.result", EventSchemas.COMPRESSION_RESULT);
        assertEquals("x86-vnni", result.data().path("profile").asText(), "the configured default profile");
        Path local = temp.resolve("wakeword-out");
        Files.createDirectories(local);
        Files.write(local.resolve("model.onnx"), Fixtures.get(s3, result.data().path("artifact").path("uri").asText()));
        assertSameOutputs(OnnxModel.load(file), local.resolve("model.onnx"));
        log.await(on(BENCHMARKS, id), 1, WAIT);
    }

    @Test
    void readinessCoversKafkaAndS3AndMetricsArePublished() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> health = http.send(HttpRequest.newBuilder(ready.toURI()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, health.statusCode(), health.body());
        JsonNode checks = EventJson.mapper().readTree(health.body()).path("checks");
        Set<String> up = new HashSet<>();
        checks.forEach(check -> {
            if (check.path("status").asText().equals("UP")) {
                up.add(check.path("name").asText());
            }
        });
        assertTrue(up.contains("s3"), () -> "s3 readiness: " + checks);
        JsonNode messaging = null;
        for (JsonNode check : checks) {
            if (check.path("name").asText().contains("Reactive Messaging")) {
                messaging = check;
            }
        }
        assertTrue(messaging != null && messaging.path("status").asText().equals("UP")
                && messaging.path("data").path("model-registered").asText().equals("[OK]"), () -> "kafka readiness: " + checks);

        HttpResponse<String> prometheus = http.send(HttpRequest.newBuilder(URI.create(metrics.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, prometheus.statusCode());
        for (String name : List.of("modelpress_events_received_total", "modelpress_models_in_flight",
                "modelpress_bytes_downloaded_bytes_total")) {
            assertTrue(prometheus.body().contains(name), () -> name + " missing from /q/metrics");
        }
    }

    /** The compressed model computes what the original computes, in ONNX Runtime. */
    static void assertSameOutputs(OnnxModel original, Path compressed) {
        try (OrtRunner expected = OrtRunner.open(original);
                OrtRunner actual = OrtRunner.open(compressed, RunnerOptions.DEFAULT)) {
            Map<String, TensorData> inputs = InputGenerator.defaults().generate(expected.inputSpecs(), 1, 42).get(0);
            Map<String, TensorData> want = expected.run(inputs);
            Map<String, TensorData> got = actual.run(inputs);
            assertEquals(want.keySet(), got.keySet());
            for (String name : want.keySet()) {
                if (want.get(name).type() != io.modelpress.model.DataType.FLOAT) {
                    continue;
                }
                float[] a = want.get(name).toFloats();
                float[] b = got.get(name).toFloats();
                assertEquals(a.length, b.length);
                for (int i = 0; i < a.length; i++) {
                    assertEquals(a[i], b[i], 1e-4 * Math.max(1, Math.abs(a[i])), "output " + name + "[" + i + "]");
                }
            }
        }
    }

    private Path downloadFolder(String folder, Path target, String modelName) throws Exception {
        Files.createDirectories(target);
        for (String key : Fixtures.list(s3, folder + "/").keySet()) {
            String rest = key.substring(folder.length() + 1);
            if (!rest.contains("/")) {
                Files.write(target.resolve(rest), Fixtures.get(s3, "s3://models/" + key));
            }
        }
        return target.resolve(modelName);
    }
}

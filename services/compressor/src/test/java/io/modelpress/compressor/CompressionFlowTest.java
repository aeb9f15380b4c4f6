package io.modelpress.compressor;

import static io.modelpress.compressor.EventLog.BENCHMARKS;
import static io.modelpress.compressor.EventLog.FAILURES;
import static io.modelpress.compressor.EventLog.PROGRESS;
import static io.modelpress.compressor.EventLog.RESULTS;
import static io.modelpress.compressor.EventLog.on;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.minio.MinioClient;
import io.modelpress.common.EventSchemas;
import io.modelpress.inference.InputGenerator;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.RunnerOptions;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.Mnist;
import io.modelpress.testkit.MnistModels;
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
import java.util.ArrayList;
import java.util.HashMap;
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
    private static final int EVALUATED = 500;

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
        // x86-vnni: no chain anywhere, so the planner chooses; nvidia-fp16: the test configuration pins graph-cleanup.
        log.sendBinary(id, "registered-flow-mlp", Fixtures.registered(id, uri, "x86-vnni", "nvidia-fp16").toString());

        List<EventLog.Event> results = log.await(on(RESULTS, id), 2, WAIT);
        List<EventLog.Event> benchmarks = log.await(on(BENCHMARKS, id), 2, WAIT);
        log.await(event -> on(PROGRESS, id).test(event) && event.data().path("stage").asText().equals("done"), 1, WAIT);
        assertEquals(List.of(), log.matching(on(FAILURES, id)));
        Fixtures.assertAllValid(log.matching(event -> id.equals(event.key())));

        String inputDigest = OnnxModel.load(downloadFolder(folder, temp.resolve("original"), "model.onnx"))
                .sourceDigest().orElseThrow();
        Map<String, JsonNode> byProfile = new HashMap<>();
        for (EventLog.Event result : results) {
            JsonNode data = result.data();
            String profile = data.path("profile").asText();
            byProfile.put(profile, data);
            assertEquals(id, result.key());
            assertEquals(id, result.header("ce_subject"));
            assertFalse(data.path("replayed").asBoolean());
            assertEquals(inputDigest, data.path("inputDigest").asText(), "the input digest covers model and external data");
            assertEquals("graph-cleanup", data.path("plan").path(0).path("plugin").asText(), "the lossless clean-up first");
            assertEquals(uri, data.path("input").path("artifactUri").asText());
            assertEquals("tests", data.path("labels").path("team").asText());
            String artifact = data.path("artifact").path("uri").asText();
            String digest = data.path("artifact").path("digest").asText();
            assertEquals("s3://models/" + folder + "/modelpress/" + profile + "/" + digest + "/model.onnx", artifact,
                    "content-addressed key beside the original");
            assertTrue(data.path("sizes").path("compressedBytes").asLong() < data.path("sizes").path("originalBytes").asLong(),
                    "at least the unused initializer is gone: " + data.path("sizes"));

            JsonNode report = EventJson.mapper().readTree(Fixtures.get(s3, data.path("artifact").path("reportUri").asText()));
            assertEquals(digest, report.path("compressed").path("digest").asText());
            assertEquals(inputDigest, report.path("original").path("digest").asText());
            String reportUri = data.path("artifact").path("reportUri").asText();
            String page = new String(Fixtures.get(s3, reportUri.substring(0, reportUri.length() - ".json".length()) + ".html"),
                    StandardCharsets.UTF_8);
            assertTrue(page.startsWith("<!DOCTYPE html>") && page.contains(profile), "report.html is stored beside report.json");
            assertTrue(data.path("artifact").path("files").toString().contains(".html"), data.path("artifact").path("files").toString());

            Path local = download(data, temp.resolve("out-" + profile));
            assertEquals(digest, OnnxModel.load(local).sourceDigest().orElseThrow(), "the stored files are the reported model");
            if (profile.equals("nvidia-fp16")) {
                assertEquals("configuration", data.path("choice").path("by").asText());
                assertEquals(1, data.path("plan").size(), "the pinned chain, nothing more");
                assertTrue(data.path("fidelity").path("outputs").path(0).path("minCosine").asDouble() > 0.9999);
                assertSameOutputs(model, local);
            } else {
                assertPlannerChoice(data, report);
                assertRunsLike(model, local, 0.99);
            }
        }
        assertEquals(Set.of("x86-vnni", "nvidia-fp16"), byProfile.keySet());

        for (EventLog.Event benchmark : benchmarks) {
            JsonNode data = benchmark.data();
            JsonNode result = byProfile.get(data.path("profile").asText());
            assertEquals(inputDigest, data.path("inputDigest").asText());
            assertEquals(result.path("plan"), data.path("plan"), "the benchmark is of the chain the result reports");
            assertEquals(result.path("requestDigest"), data.path("requestDigest"));
            assertTrue(data.path("original").path("bytes").asLong() > data.path("compressed").path("bytes").asLong());
            assertTrue(data.path("latency").path("measured").asBoolean(), () -> "latency: " + data.path("latency"));
            assertTrue(data.path("latency").path("compressed").path("p50Millis").asDouble() > 0);
        }
        List<EventLog.Event> progress = log.matching(on(PROGRESS, id));
        List<String> stages = progress.stream().map(event -> event.data().path("stage").asText()).toList();
        assertTrue(stages.stream().anyMatch(stage -> stage.matches("compress x86-vnni: plan \\d+/\\d+\\b.*")),
                () -> "each of the planner's candidates is published as it starts: " + stages);
        assertTrue(stages.stream().anyMatch(stage -> stage.startsWith("compress nvidia-fp16: step 1/1 graph-cleanup")),
                () -> "progress of the pinned chain's steps: " + stages);
        assertTrue(progress.stream().filter(event -> event.data().has("profile")).allMatch(event ->
                event.data().has("inputDigest") && event.data().has("requestDigest")),
                "progress of a profile carries the input and request digests");
        assertThrottled(progress, Duration.ofMillis(200));
    }

    /**
     * Within one stage of one profile, progress events are at least the interval apart (the test
     * configuration's MODELPRESS_PROGRESS_INTERVAL); only a change of stage comes sooner, and the
     * planner's candidates are a stage each.
     */
    static void assertThrottled(List<EventLog.Event> progress, Duration interval) {
        Map<String, java.time.Instant> lastAt = new HashMap<>();
        Map<String, String> lastStage = new HashMap<>();
        int stageChanges = 0;
        for (EventLog.Event event : progress) {
            String lane = event.data().path("profile").asText("");
            String stage = Compressor.PLANNER_STAGE.matcher(event.data().path("stage").asText()).replaceFirst("$1");
            java.time.Instant at = java.time.Instant.parse(event.data().path("at").asText());
            if (stage.equals(lastStage.get(lane))) {
                Duration gap = Duration.between(lastAt.get(lane), at);
                // a millisecond for the clocks of the two readings
                assertTrue(gap.compareTo(interval.minusMillis(1)) >= 0, () -> "two progress events of " + lane + " in stage "
                        + stage + " only " + gap + " apart: " + progress.stream().map(e -> e.data().path("stage").asText()
                        + "@" + e.data().path("at").asText()).toList());
            } else {
                stageChanges++;
            }
            lastAt.put(lane, at);
            lastStage.put(lane, stage);
        }
        int changes = stageChanges;
        assertTrue(changes < 40, () -> changes + " stage changes for one model: more than one per candidate and step");
    }

    @Test
    void aRealModelSentInStructuredModeIsCompressedByThePlannerForTheDefaultProfile() throws Exception {
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
        JsonNode data = result.data();
        assertEquals("x86-vnni", data.path("profile").asText(), "the configured default profile");
        JsonNode report = EventJson.mapper().readTree(Fixtures.get(s3, data.path("artifact").path("reportUri").asText()));
        assertPlannerChoice(data, report);
        assertTrue(data.path("sizes").path("sizeRatio").asDouble() > 1.5,
                () -> "a real fp32 model gets smaller than the clean-up alone makes it: " + data.path("sizes"));
        Path local = download(data, temp.resolve("wakeword-out"));
        assertRunsLike(OnnxModel.load(file), local, 0.9);
        Fixtures.assertValidEvent(log.await(on(BENCHMARKS, id), 1, WAIT).get(0), "io.modelpress.benchmark",
                EventSchemas.BENCHMARK);
    }

    @Test
    void calibrationAndEvaluationDataReachThePluginsAndTheAccuracyReportedIsTheAccuracyMeasured() throws Exception {
        Path file = MnistModels.copy(temp.resolve("mnist"));
        String uri = Fixtures.storeFile(s3, file, "registry/mnist/2/model.onnx");
        String input;
        try (OrtRunner runner = OrtRunner.open(OnnxModel.load(file))) {
            input = runner.inputNames().get(0);
        }
        Mnist digits = Mnist.load();
        Fixtures.put(s3, "registry/mnist/data/calibration.npz", Fixtures.npz(input, Mnist.PIXELS,
                digits.images(0, 64), null));
        long[] labels = new long[EVALUATED];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = digits.label(MnistModels.TRAIN + i);
        }
        Fixtures.put(s3, "registry/mnist/data/evaluation.npz", Fixtures.npz(input, Mnist.PIXELS,
                digits.images(MnistModels.TRAIN, MnistModels.TRAIN + EVALUATED), labels));
        String id = "flow/mnist";
        ObjectNode registered = Fixtures.withChain(Fixtures.registered(id, uri, "x86-vnni"), "graph-cleanup", "int8-static");
        registered.put("calibrationDataUri", "s3://models/registry/mnist/data/calibration.npz");
        registered.put("evaluationDataUri", "s3://models/registry/mnist/data/evaluation.npz");
        log.sendBinary(id, "registered-mnist-2", registered.toString());

        JsonNode result = log.await(on(RESULTS, id), 1, WAIT).get(0).data();
        Fixtures.assertAllValid(log.matching(event -> id.equals(event.key())));
        assertEquals("event", result.path("choice").path("by").asText());
        assertTrue(result.path("calibration").path("used").asBoolean(), "int8-static calibrated on the event's data");
        JsonNode accuracy = result.path("accuracy");
        assertTrue(accuracy.path("measured").asBoolean(), () -> "accuracy: " + accuracy);
        JsonNode figures = accuracy.path("figures");
        assertEquals(EVALUATED, figures.path("examples").asInt());
        OnnxModel compressed = OnnxModel.load(download(result, temp.resolve("mnist-out")));
        double measured = MnistModels.accuracy(compressed, MnistModels.TRAIN, MnistModels.TRAIN + EVALUATED);
        assertEquals(measured, figures.path("top1After").asDouble(), 2.0 / EVALUATED,
                "the reported accuracy is what the stored model scores on the same digits");
        assertEquals(MnistModels.accuracy(OnnxModel.load(file), MnistModels.TRAIN, MnistModels.TRAIN + EVALUATED),
                figures.path("top1Before").asDouble(), 2.0 / EVALUATED);
        assertTrue(result.path("sizes").path("sizeRatio").asDouble() > 3, () -> "int8 weights: " + result.path("sizes"));
        assertTrue(figures.path("top1Drop").asDouble() < 3, () -> "int8 keeps the digits: " + figures);
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
        for (String series : List.of("modelpress_events_received_total", "modelpress_models_in_flight",
                "modelpress_events_published_total\\{[^}]*topic=\"compression-results\"",
                "modelpress_events_failed_total\\{[^}]*stage=\"download\"",
                "modelpress_bytes_downloaded_bytes_total", "modelpress_bytes_uploaded_bytes_total",
                "modelpress_results_replayed_total")) {
            assertTrue(java.util.regex.Pattern.compile("(?m)^" + series).matcher(prometheus.body()).find(),
                    () -> series + " missing from /q/metrics");
        }
    }

    /**
     * The planner's choice as the result reports it: every candidate listed, exactly one chosen,
     * the one that ran, within the budget it claims to meet, and the same in report.json.
     */
    static void assertPlannerChoice(JsonNode result, JsonNode report) {
        JsonNode choice = result.path("choice");
        assertEquals("planner", choice.path("by").asText(), () -> "choice: " + choice);
        List<JsonNode> chosen = new ArrayList<>();
        choice.path("candidates").forEach(candidate -> {
            if (candidate.path("chosen").asBoolean()) {
                chosen.add(candidate);
            }
        });
        assertTrue(choice.path("candidates").size() > 1, () -> "the planner compared candidates: " + choice);
        assertTrue(result.path("judging").has("judgedOn"), () -> "the result says what judged it: " + result);
        if (result.path("status").asText().equals("kept-original")) {
            assertEquals(0, chosen.size(), () -> "nothing passed off as meeting the budget: " + choice);
            assertEquals(0, result.path("plan").size(), "the original, unchanged");
            assertTrue(result.path("hint").asText().contains("nothing met the budget"), () -> "a hint: " + result);
            assertEquals(choice.path("explanation"), report.path("planning").path("explanation"), "report.json has the search");
            return;
        }
        assertEquals(1, chosen.size(), () -> "exactly one chosen: " + choice);
        List<String> ran = new ArrayList<>();
        result.path("plan").forEach(step -> ran.add(step.path("plugin").asText()));
        assertEquals(ran, List.of(chosen.get(0).path("chain").asText().replaceAll(":[^ ]*", "").split(" -> ")),
                "the chosen candidate is the plan that ran");
        assertEquals("measured", chosen.get(0).path("outcome").asText());
        if (choice.path("metBudget").asBoolean()) {
            assertTrue(chosen.get(0).path("drop").asDouble() <= choice.path("budget").path("maxAccuracyDrop").asDouble());
            assertEquals(0, chosen.get(0).path("violations").size());
        } else {
            assertTrue(chosen.get(0).path("violations").size() > 0, () -> "a missed budget says what it misses: " + choice);
        }
        assertEquals(choice.path("explanation"), report.path("planning").path("explanation"), "report.json has the search");
        List<String> operators = new ArrayList<>();
        choice.path("checks").forEach(check -> {
            if (check.path("budget").asText().equals("operators")) {
                operators.add(check.path("state").asText());
            }
        });
        assertEquals(List.of("not-checked"), operators, () -> "a profile without an operator list says so: " + choice);
        assertTrue(report.path("benchmark").path("compressed").path("p50Millis").asDouble() > 0,
                "the chosen model is timed against the original");
    }

    /** The stored model and its external data file, if any, downloaded to a folder. */
    private Path download(JsonNode result, Path folder) throws Exception {
        Files.createDirectories(folder);
        Files.write(folder.resolve("model.onnx"), Fixtures.get(s3, result.path("artifact").path("uri").asText()));
        if (result.path("artifact").has("dataUri")) {
            String dataUri = result.path("artifact").path("dataUri").asText();
            Files.write(folder.resolve(dataUri.substring(dataUri.lastIndexOf('/') + 1)), Fixtures.get(s3, dataUri));
        }
        return folder.resolve("model.onnx");
    }

    /**
     * The compressed model runs in ONNX Runtime on inputs the service never saw, with the
     * original's outputs and shapes, and float outputs close to the original's (cosine).
     */
    static void assertRunsLike(OnnxModel original, Path compressed, double minCosine) {
        try (OrtRunner expected = OrtRunner.open(original);
                OrtRunner actual = OrtRunner.open(compressed, RunnerOptions.DEFAULT)) {
            for (Map<String, TensorData> inputs : InputGenerator.defaults().generate(expected.inputSpecs(), 4, 7)) {
                Map<String, TensorData> want = expected.run(inputs);
                Map<String, TensorData> got = actual.run(inputs);
                assertEquals(want.keySet(), got.keySet());
                for (String name : want.keySet()) {
                    if (want.get(name).type() != io.modelpress.model.DataType.FLOAT) {
                        continue;
                    }
                    assertArrayEquals(want.get(name).shape(), got.get(name).shape(), "shape of output " + name);
                    float[] a = want.get(name).toFloats();
                    float[] b = got.get(name).toFloats();
                    double dot = 0;
                    double na = 0;
                    double nb = 0;
                    for (int i = 0; i < a.length; i++) {
                        assertTrue(Float.isFinite(b[i]), "output " + name + " is finite");
                        dot += (double) a[i] * b[i];
                        na += (double) a[i] * a[i];
                        nb += (double) b[i] * b[i];
                    }
                    double cosine = na == 0 && nb == 0 ? 1 : dot / Math.sqrt(na * nb);
                    assertTrue(cosine >= minCosine, "output " + name + ": cosine " + cosine + " to the original's");
                }
            }
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

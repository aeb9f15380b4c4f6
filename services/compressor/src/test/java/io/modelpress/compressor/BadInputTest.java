package io.modelpress.compressor;

import static io.modelpress.compressor.EventLog.FAILURES;
import static io.modelpress.compressor.EventLog.RESULTS;
import static io.modelpress.compressor.EventLog.on;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.minio.MinioClient;
import io.modelpress.common.EventSchemas;
import io.modelpress.compressor.testplugins.ErrorPlugin;
import io.modelpress.compressor.testplugins.ThrowingPlugin;
import io.modelpress.testkit.TestModels;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.util.HexFormat;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each bad input ends in exactly one failure event with a clear reason, and the next good event is still processed. */
@QuarkusTest
@WithTestResource(LocalStackResource.class)
class BadInputTest {

    private static final Duration WAIT = Duration.ofSeconds(120);

    @TempDir
    Path temp;

    @TestHTTPResource("/q/health/live")
    URL liveness;

    /** What one bad event must produce. */
    private record Expected(String stage, String reason) {
    }

    @Test
    void everyBadInputEndsInOneFailureAndTheNextGoodEventIsProcessed() throws Exception {
        MinioClient s3 = Fixtures.s3();
        String good = Fixtures.storeWithExternalData(s3, TestModels.mlp(8, 8, 2, 3), "registry/bad-good/1", temp);
        // Beside the model, an object larger than the artifact limit: only what the model declares is fetched.
        Fixtures.put(s3, "registry/bad-good/1/checkpoint.bin", random((int) LocalStackResource.MAX_ARTIFACT_BYTES + 1, 3));
        Fixtures.put(s3, "registry/bad-corrupt/1/model.onnx", random(4096, 1));
        Fixtures.put(s3, "registry/bad-big/1/model.onnx", random((int) LocalStackResource.MAX_ARTIFACT_BYTES + 1, 2));
        Map<String, Expected> expected = new LinkedHashMap<>();
        Map<String, String> sent = new LinkedHashMap<>();
        try (EventLog log = new EventLog(Fixtures.bootstrapServers())) {
            send(log, sent, "bad/not-json", "{\"modelId\": \"bad/not-json\", this is not json");
            expected.put("bad/not-json", new Expected("receive", "the record value is not JSON"));

            send(log, sent, "bad/schema", "{\"modelId\": \"bad/schema\", \"version\": \"1\", \"profiles\": \"x86-vnni\"}");
            expected.put("bad/schema", new Expected("validate", "artifactUri"));

            send(log, sent, "bad/profile", Fixtures.registered("bad/profile", good, "x86-vnni-turbo").toString());
            expected.put("bad/profile", new Expected("validate", "unknown profile 'x86-vnni-turbo'; known profiles: "));

            send(log, sent, "bad/missing", Fixtures.registered("bad/missing", "s3://models/registry/nowhere/model.onnx")
                    .toString());
            expected.put("bad/missing", new Expected("download", "no object at s3://models/registry/nowhere/model.onnx"));

            send(log, sent, "bad/sha", Fixtures.registered("bad/sha", good).put("sha256", "ab".repeat(32)).toString());
            expected.put("bad/sha", new Expected("verify", "sha256 mismatch: the event says " + "ab".repeat(32)));

            send(log, sent, "bad/corrupt", Fixtures.registered("bad/corrupt", "s3://models/registry/bad-corrupt/1/model.onnx")
                    .toString());
            expected.put("bad/corrupt", new Expected("load", "is not a valid ONNX model"));

            send(log, sent, "bad/big", Fixtures.registered("bad/big", "s3://models/registry/bad-big/1/model.onnx").toString());
            expected.put("bad/big", new Expected("download", "over the limit of " + LocalStackResource.MAX_ARTIFACT_BYTES));

            send(log, sent, "bad/thrower", Fixtures.withChain(Fixtures.registered("bad/thrower", good), "graph-cleanup",
                    "test-thrower").toString());
            expected.put("bad/thrower", new Expected("compress", "step 2 test-thrower failed: plugin failed with"
                    + " IllegalStateException: " + ThrowingPlugin.MESSAGE));

            send(log, sent, "bad/chain", Fixtures.withChain(Fixtures.registered("bad/chain", good), "no-such-plugin")
                    .toString());
            expected.put("bad/chain", new Expected("plan", "unknown plugin 'no-such-plugin'; available plugins: "));

            send(log, sent, "bad/error", Fixtures.withChain(Fixtures.registered("bad/error", good), "graph-cleanup",
                    "test-error").toString());
            expected.put("bad/error", new Expected("internal", "AssertionError: " + ErrorPlugin.MESSAGE));

            String foreign = good.replace("s3://models/", "s3://elsewhere/");
            send(log, sent, "bad/foreign", Fixtures.unsigned("bad/foreign", foreign).put("sha256", "cd".repeat(32))
                    .toString());
            expected.put("bad/foreign", new Expected("validate", "is outside the locations this service may read"
                    + " (MODELPRESS_INPUTS_ALLOWED: models/)"));

            String climbing = "s3://models/registry/bad-good/../../secrets/model.onnx";
            send(log, sent, "bad/dotdot", Fixtures.unsigned("bad/dotdot", climbing).put("sha256", "cd".repeat(32))
                    .toString());
            expected.put("bad/dotdot", new Expected("validate", "has a '..' segment in its key"));

            send(log, sent, "bad/no-sha", Fixtures.unsigned("bad/no-sha", good).toString());
            expected.put("bad/no-sha", new Expected("validate", "the event has no sha256 of the model; it is required"));

            send(log, sent, "bad/foreign-data", Fixtures.registered("bad/foreign-data", good)
                    .put("calibrationDataUri", "s3://elsewhere/data/calibration.npz").toString());
            expected.put("bad/foreign-data", new Expected("validate", "calibrationDataUri s3://elsewhere/data/calibration.npz"
                    + " is outside the locations"));

            send(log, sent, "bad/good-after", Fixtures.registered("bad/good-after", good).toString());
            log.await(on(RESULTS, "bad/good-after"), 1, WAIT);
            // One partition, one model at a time: every earlier record is done; give stray events a moment.
            log.drain(Duration.ofSeconds(1));

            for (Map.Entry<String, Expected> bad : expected.entrySet()) {
                String key = bad.getKey();
                List<EventLog.Event> failures = log.matching(on(FAILURES, key));
                assertEquals(1, failures.size(), () -> key + ": exactly one failure, not " + failures);
                EventLog.Event failure = failures.get(0);
                Fixtures.assertValidEvent(failure, "io.modelpress.compression.failure", EventSchemas.FAILURE);
                JsonNode data = failure.data();
                assertEquals(bad.getValue().stage(), data.path("stage").asText(), () -> key + ": " + data);
                assertTrue(data.path("reason").asText().contains(bad.getValue().reason()),
                        () -> key + ": reason '" + data.path("reason").asText() + "' should say '" + bad.getValue().reason() + "'");
                assertFalse(data.path("retryable").asBoolean(), () -> key + ": sending it again fails the same way");
                assertEquals(sent.get(key), data.path("original").path("value").asText(), key + ": the original event");
                assertEquals("modelpress.model-registered", data.path("original").path("topic").asText());
                assertEquals(List.of(), log.matching(on(RESULTS, key)), key + ": no result");
            }
            JsonNode notJson = log.matching(on(FAILURES, "bad/not-json")).get(0).data();
            assertFalse(notJson.has("modelId"), "an unreadable event has no model id");
            JsonNode afterDownload = log.matching(on(FAILURES, "bad/thrower")).get(0).data();
            assertEquals("x86-vnni", afterDownload.path("profile").asText());
            assertEquals(64, afterDownload.path("inputDigest").asText().length(), "a failure after the download carries the digest");
            assertEquals("test-thrower", afterDownload.path("plan").path(1).path("plugin").asText(), "and the plan");
        }
    }

    /**
     * A 5 MiB malformed event, over the producer's max.request.size: its failure event carries its
     * size, digest and first KiBs only, so it is published, the offset moves on, and the good events
     * behind it are all answered; the consumer group has no lag and liveness stays UP.
     */
    @Test
    void anOversizedMalformedEventIsRefusedWithABoundedFailureAndConsumptionGoesOn() throws Exception {
        MinioClient s3 = Fixtures.s3();
        String good = Fixtures.storeWithExternalData(s3, TestModels.mlp(8, 8, 2, 5), "registry/poison-good/1", temp);
        ObjectNode poison = Fixtures.registered("poison/huge", good);
        ObjectNode labels = poison.putObject("labels");
        String filler = "x".repeat(1000);
        for (int i = 0; i < 5300; i++) {
            labels.put("label-" + i, filler);
        }
        byte[] value = poison.toString().getBytes(StandardCharsets.UTF_8);
        assertTrue(value.length > 5 * 1024 * 1024, "a 5 MiB event, not " + value.length);
        try (EventLog log = new EventLog(Fixtures.bootstrapServers())) {
            log.sendLarge("poison/huge", Map.of("ce_specversion", "1.0", "ce_id", "id-poison", "ce_type",
                    "io.modelpress.model.registered", "ce_source", "/test/registry"), value);
            for (int i = 0; i < 3; i++) {
                log.sendBinary("poison/after-" + i, "id-after-" + i, Fixtures.withChain(Fixtures.registered(
                        "poison/after-" + i, good, "x86-vnni"), "graph-cleanup").toString());
            }
            for (int i = 0; i < 3; i++) {
                log.await(on(RESULTS, "poison/after-" + i), 1, WAIT);
            }
            List<EventLog.Event> failures = log.matching(on(FAILURES, "poison/huge"));
            assertEquals(1, failures.size(), () -> "one failure for the oversized event: " + failures);
            Fixtures.assertValidEvent(failures.get(0), "io.modelpress.compression.failure", EventSchemas.FAILURE);
            JsonNode original = failures.get(0).data().path("original");
            assertTrue(failures.get(0).data().path("reason").asText().contains("must have at most 64 properties"),
                    () -> "the reason: " + failures.get(0).data().path("reason"));
            assertTrue(original.path("truncated").asBoolean(), "the value is cut");
            assertEquals(value.length, original.path("valueBytes").asLong());
            assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(value)),
                    original.path("valueSha256").asText());
            assertTrue(original.path("value").asText().length() <= 4096, "at most 4 KiB of the value");
            assertTrue(new String(value, StandardCharsets.UTF_8).startsWith(original.path("value").asText()));
            log.awaitNoLag("modelpress-compressor", WAIT);
        }
        HttpResponse<String> live = HttpClient.newHttpClient().send(HttpRequest.newBuilder(liveness.toURI()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, live.statusCode(), () -> "liveness: " + live.body());
        assertTrue(live.body().contains("compressor-jobs"), () -> "the named check: " + live.body());
    }

    private static void send(EventLog log, Map<String, String> sent, String key, String value) {
        sent.put(key, value);
        log.send(key, Map.of("ce_specversion", "1.0", "ce_id", "id-" + key, "ce_type", "io.modelpress.model.registered",
                "ce_source", "/test/registry"), value.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new SplittableRandom(seed).nextBytes(bytes);
        return bytes;
    }
}

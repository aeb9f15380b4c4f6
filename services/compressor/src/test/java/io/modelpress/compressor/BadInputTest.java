package io.modelpress.compressor;

import static io.modelpress.compressor.EventLog.FAILURES;
import static io.modelpress.compressor.EventLog.RESULTS;
import static io.modelpress.compressor.EventLog.on;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.minio.MinioClient;
import io.modelpress.compressor.testplugins.ThrowingPlugin;
import io.modelpress.testkit.TestModels;
import io.quarkus.test.common.WithTestResource;
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

    /** What one bad event must produce. */
    private record Expected(String stage, String reason) {
    }

    @Test
    void everyBadInputEndsInOneFailureAndTheNextGoodEventIsProcessed() throws Exception {
        MinioClient s3 = Fixtures.s3();
        String good = Fixtures.storeWithExternalData(s3, TestModels.mlp(8, 8, 2, 3), "registry/bad-good/1", temp);
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

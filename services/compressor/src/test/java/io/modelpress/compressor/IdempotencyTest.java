package io.modelpress.compressor;

import static io.modelpress.compressor.EventLog.BENCHMARKS;
import static io.modelpress.compressor.EventLog.FAILURES;
import static io.modelpress.compressor.EventLog.RESULTS;
import static io.modelpress.compressor.EventLog.on;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.minio.MinioClient;
import io.modelpress.testkit.TestModels;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * At-least-once delivery with idempotent outputs: the same registration twice costs one
 * computation; the second is answered from storage with the same result events, marked replayed.
 */
@QuarkusTest
@WithTestResource(LocalStackResource.class)
class IdempotencyTest {

    private static final Duration WAIT = Duration.ofSeconds(120);

    @TempDir
    Path temp;

    @Inject
    CompressorMetrics metrics;

    @Test
    void theSameEventTwiceComputesOnceAndIsAnsweredFromStorage() throws Exception {
        MinioClient s3 = Fixtures.s3();
        String folder = "registry/dup-mlp/1";
        String uri = Fixtures.storeWithExternalData(s3, TestModels.mlp(8, 16, 3, 5), folder, temp);
        String id = "dup/mlp";
        String event = Fixtures.registered(id, uri, "x86-vnni").toString();
        try (EventLog log = new EventLog(Fixtures.bootstrapServers())) {
            log.sendBinary(id, "registered-dup-1", event);
            EventLog.Event first = log.await(on(RESULTS, id), 1, WAIT).get(0);
            log.await(on(BENCHMARKS, id), 1, WAIT);
            Map<String, String> stored = Fixtures.list(s3, folder + "/modelpress/");
            double compressions = metrics.compressions();
            double replays = metrics.replays();

            // A duplicate from the registry (same CloudEvent id) or a redelivery after a rebalance.
            log.sendBinary(id, "registered-dup-1", event);
            List<EventLog.Event> results = log.await(on(RESULTS, id), 2, WAIT);
            List<EventLog.Event> benchmarks = log.await(on(BENCHMARKS, id), 2, WAIT);
            EventLog.Event second = results.get(1);

            assertFalse(first.data().path("replayed").asBoolean());
            assertTrue(second.data().path("replayed").asBoolean(), "the second answer says it was replayed");
            assertEquals(first.header("ce_id"), second.header("ce_id"), "a republished result keeps its event id");
            ObjectNode unmarked = ((ObjectNode) second.data().deepCopy()).put("replayed", false);
            assertEquals(first.data(), unmarked, "the same result, only marked replayed");
            assertTrue(benchmarks.get(1).data().path("replayed").asBoolean());
            assertEquals(benchmarks.get(0).header("ce_id"), benchmarks.get(1).header("ce_id"));

            assertEquals(compressions, metrics.compressions(), "no second compression");
            assertEquals(replays + 1, metrics.replays());
            assertEquals(stored, Fixtures.list(s3, folder + "/modelpress/"), "nothing stored again");
            assertTrue(stored.keySet().stream().anyMatch(key -> key.contains("/modelpress/index/x86-vnni/")), stored::toString);
            assertEquals(List.of(), log.matching(on(FAILURES, id)));
            Fixtures.assertAllValid(log.matching(e -> id.equals(e.key())));
        }
    }

    @Test
    void aNewVersionOfTheSameBytesIsAnsweredFromStorageAsItself() throws Exception {
        MinioClient s3 = Fixtures.s3();
        String uri = Fixtures.storeWithExternalData(s3, TestModels.mlp(8, 16, 3, 8), "registry/reversioned-mlp", temp);
        String id = "reversioned/mlp";
        ObjectNode first = Fixtures.registered(id, uri, "x86-vnni");
        ObjectNode second = first.deepCopy().put("version", "2");
        second.putObject("labels").put("stage", "production");
        try (EventLog log = new EventLog(Fixtures.bootstrapServers())) {
            log.sendBinary(id, "registered-reversioned-1", first.toString());
            EventLog.Event computed = log.await(on(RESULTS, id), 1, WAIT).get(0);
            double compressions = metrics.compressions();

            log.sendBinary(id, "registered-reversioned-2", second.toString());
            EventLog.Event replayed = log.await(on(RESULTS, id), 2, WAIT).get(1);
            List<EventLog.Event> benchmarks = log.await(on(BENCHMARKS, id), 2, WAIT);

            assertTrue(replayed.data().path("replayed").asBoolean(), "the same bytes and request: answered from storage");
            assertEquals(compressions, metrics.compressions(), "no second compression");
            assertEquals("1", computed.data().path("version").asText());
            assertEquals("2", replayed.data().path("version").asText(), "the answer is for the version that asked");
            assertEquals("production", replayed.data().path("labels").path("stage").asText());
            assertEquals("2", benchmarks.get(1).data().path("version").asText());
            assertNotEquals(computed.header("ce_id"), replayed.header("ce_id"), "another registration, another event");
            assertNotEquals(benchmarks.get(0).header("ce_id"), benchmarks.get(1).header("ce_id"));
            assertEquals(computed.data().path("artifact"), replayed.data().path("artifact"), "the stored model");
            assertEquals(computed.data().path("sizes"), replayed.data().path("sizes"), "the figures measured then");
            assertEquals(List.of(), log.matching(on(FAILURES, id)));
            Fixtures.assertAllValid(log.matching(e -> id.equals(e.key())));
        }
    }

    @Test
    void requestsThatMakeTheSameModelKeepOneModelAndAReportEach() throws Exception {
        MinioClient s3 = Fixtures.s3();
        String folder = "registry/same-mlp/1";
        String uri = Fixtures.storeWithExternalData(s3, TestModels.mlp(8, 16, 3, 7), folder, temp);
        float[] rows = new float[32 * 8];
        java.util.SplittableRandom random = new java.util.SplittableRandom(3);
        for (int i = 0; i < rows.length; i++) {
            rows[i] = (float) random.nextGaussian();
        }
        long[] labels = new long[32];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = random.nextInt(3);
        }
        Fixtures.put(s3, folder + "/evaluation.npz", Fixtures.npz("x", 8, rows, labels));
        String id = "same/mlp";
        ObjectNode generated = Fixtures.withChain(Fixtures.registered(id, uri, "x86-vnni"), "int8-dynamic");
        ObjectNode evaluated = generated.deepCopy().put("evaluationDataUri", "s3://models/" + folder + "/evaluation.npz");
        try (EventLog log = new EventLog(Fixtures.bootstrapServers())) {
            log.sendBinary(id, "registered-same-1", generated.toString());
            log.await(on(RESULTS, id), 1, WAIT);
            log.sendBinary(id, "registered-same-2", evaluated.toString());
            List<EventLog.Event> results = log.await(on(RESULTS, id), 2, WAIT);
            JsonNode first = results.get(0).data();
            JsonNode second = results.get(1).data();

            assertFalse(second.path("replayed").asBoolean(), "other evaluation data is another request");
            assertEquals(first.path("artifact").path("uri"), second.path("artifact").path("uri"), "one model, stored once");
            assertNotEquals(first.path("artifact").path("reportUri"), second.path("artifact").path("reportUri"));
            assertFalse(first.path("accuracy").path("measured").asBoolean());
            assertTrue(second.path("accuracy").path("measured").asBoolean(), "the labelled data measured accuracy");
            for (JsonNode result : List.of(first, second)) {
                JsonNode report = EventJson.mapper().readTree(Fixtures.get(s3, result.path("artifact").path("reportUri").asText()));
                JsonNode accuracy = report.path("accuracy");
                assertEquals(result.path("accuracy").path("measured").asBoolean(), accuracy.isObject(),
                        () -> "the report at " + result.path("artifact").path("reportUri") + " is this request's: " + accuracy);
            }
            assertEquals(List.of(), log.matching(on(FAILURES, id)));
            Fixtures.assertAllValid(log.matching(e -> id.equals(e.key())));
        }
    }

    @Test
    void aBudgetOverrideIsAnotherRequestAndThePlannerSearchesUnderIt() throws Exception {
        MinioClient s3 = Fixtures.s3();
        String uri = Fixtures.storeWithExternalData(s3, TestModels.mlp(8, 16, 3, 6), "registry/budget-mlp/1", temp);
        String id = "budget/mlp";
        try (EventLog log = new EventLog(Fixtures.bootstrapServers())) {
            log.sendBinary(id, "registered-budget-1", Fixtures.registered(id, uri, "x86-vnni").toString());
            JsonNode first = log.await(on(RESULTS, id), 1, WAIT).get(0).data();
            double compressions = metrics.compressions();

            ObjectNode tight = Fixtures.registered(id, uri, "x86-vnni");
            tight.putObject("budgets").put("sizeBytes", 1).put("maxAccuracyDrop", 0.2);
            log.sendBinary(id, "registered-budget-2", tight.toString());
            JsonNode second = log.await(on(RESULTS, id), 2, WAIT).get(1).data();

            assertFalse(second.path("replayed").asBoolean(), "other budgets are another request: computed, not replayed");
            assertNotEquals(first.path("requestDigest"), second.path("requestDigest"));
            assertEquals(first.path("inputDigest"), second.path("inputDigest"));
            assertEquals(compressions + 1, metrics.compressions());
            JsonNode choice = second.path("choice");
            assertEquals(1, choice.path("budget").path("maxBytes").asLong(), "the event's size budget reached the planner");
            assertEquals(0.2, choice.path("budget").path("maxAccuracyDrop").asDouble(), 1e-9);
            assertFalse(choice.path("metBudget").asBoolean(), "no model fits in one byte");
            assertEquals("kept-original", second.path("status").asText());
            assertTrue(second.path("hint").asText().contains("the size budget to"), () -> "what would help: " + second);
            assertTrue(choice.path("explanation").asText().startsWith("no candidate meets the budget"),
                    () -> "the result says it is only the closest: " + choice);
            choice.path("candidates").forEach(candidate -> {
                if (candidate.path("outcome").asText().equals("measured")) {
                    assertTrue(candidate.path("violations").toString().contains("size"), () -> "misses the size: " + candidate);
                }
            });
            assertTrue(second.path("budgets").path("size").has("met") && !second.path("budgets").path("size").path("met")
                    .asBoolean(), () -> "budgets: " + second.path("budgets"));

            // the same model may come out of both requests; each keeps the report of its own search
            assertNotEquals(first.path("artifact").path("reportUri"), second.path("artifact").path("reportUri"));
            for (JsonNode result : List.of(first, second)) {
                JsonNode report = EventJson.mapper().readTree(Fixtures.get(s3, result.path("artifact").path("reportUri").asText()));
                assertEquals(result.path("choice").path("explanation"), report.path("planning").path("explanation"),
                        () -> "the report at " + result.path("artifact").path("reportUri") + " is this request's");
            }
            assertEquals(List.of(), log.matching(on(FAILURES, id)));
            Fixtures.assertAllValid(log.matching(e -> id.equals(e.key())));
        }
    }
}

package io.modelpress.compressor;

import static io.modelpress.compressor.EventLog.FAILURES;
import static io.modelpress.compressor.EventLog.RESULTS;
import static io.modelpress.compressor.EventLog.on;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.minio.MinioClient;
import io.modelpress.testkit.TestModels;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plugins under control in the running service, with the real broker and S3 server: jars load only
 * when vetted, and a plugin that hangs ends in a failure event while the next event is answered.
 */
@QuarkusTest
@WithTestResource(LocalStackResource.class)
class PluginControlTest {

    private static final Duration WAIT = Duration.ofSeconds(120);

    @TempDir
    Path temp;

    @TestHTTPResource("/q/health/ready")
    URL readiness;

    @Test
    void aHangingPluginEndsInAStepLimitFailureAndTheNextEventIsAnswered() throws Exception {
        MinioClient s3 = Fixtures.s3();
        String model = Fixtures.storeWithExternalData(s3, TestModels.mlp(8, 8, 2, 11), "registry/hang/1", temp);
        Path hold = Files.writeString(temp.resolve("hold"), "the plugin hangs while this file exists");
        try (EventLog log = new EventLog(Fixtures.bootstrapServers())) {
            log.sendBinary("hang/stuck", "id-hang-stuck", Fixtures.withChain(Fixtures.registered("hang/stuck", model,
                    LocalStackResource.SHORT_STEPS_PROFILE), "graph-cleanup", "test-hang:hold-file=" + hold).toString());
            log.sendBinary("hang/after", "id-hang-after", Fixtures.withChain(Fixtures.registered("hang/after", model,
                    "x86-vnni"), "graph-cleanup").toString());

            JsonNode failure = log.await(on(FAILURES, "hang/stuck"), 1, WAIT).get(0).data();
            assertEquals("compress", failure.path("stage").asText(), failure::toString);
            assertEquals(LocalStackResource.SHORT_STEPS_PROFILE, failure.path("profile").asText());
            assertEquals("step 2 test-hang failed: exceeded its 3 s time limit; it did not stop within 1 s of being"
                    + " cancelled and was left behind on its thread", failure.path("reason").asText());
            log.await(on(RESULTS, "hang/after"), 1, WAIT);
            assertEquals(List.of(), log.matching(on(RESULTS, "hang/stuck")), "no result for the hanging chain");
        } finally {
            Files.deleteIfExists(hold); // the left-behind thread ends
        }
    }

    @Test
    void onlyTheVettedJarLoadsAndTheRefusedOnesAreListedWithWhy() throws Exception {
        HttpResponse<String> ready = HttpClient.newHttpClient().send(HttpRequest.newBuilder(readiness.toURI()).build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode plugins = null;
        for (JsonNode check : EventJson.mapper().readTree(ready.body()).path("checks")) {
            if (check.path("name").asText().equals("plugins")) {
                plugins = check;
            }
        }
        assertTrue(plugins != null, () -> "a plugins check in " + ready.body());
        JsonNode data = plugins.path("data");
        assertEquals("UP", plugins.path("status").asText());
        assertTrue(data.path("loaded").asText().contains("test-jar-only"), data::toString);
        assertEquals(2, data.path("refused").asInt(), data::toString);
        String changed = data.path("refused-1").asText();
        String unlisted = data.path("refused-2").asText();
        assertTrue(changed.startsWith("jar " + LocalStackResource.CHANGED_JAR + ": sha256 mismatch: the plugin allow-list"
                + " names " + LocalStackResource.CHANGED_SHA256 + ", the jar's is "), changed);
        assertTrue(unlisted.startsWith("jar " + LocalStackResource.UNLISTED_JAR + ": not in the plugin allow-list"
                + " (MODELPRESS_PLUGINS_ALLOWED or MODELPRESS_PLUGINS_ALLOWED_FILE); its sha256 is "), unlisted);

        MinioClient s3 = Fixtures.s3();
        String model = Fixtures.storeWithExternalData(s3, TestModels.mlp(8, 8, 2, 12), "registry/vetted/1", temp);
        try (EventLog log = new EventLog(Fixtures.bootstrapServers())) {
            log.sendBinary("vetted/jar", "id-vetted-jar", Fixtures.withChain(Fixtures.registered("vetted/jar", model,
                    "x86-vnni"), "test-jar-only").toString());
            JsonNode result = log.await(on(RESULTS, "vetted/jar"), 1, WAIT).get(0).data();
            assertEquals("test-jar-only", result.path("plan").path(0).path("plugin").asText(), result::toString);
        }
    }
}

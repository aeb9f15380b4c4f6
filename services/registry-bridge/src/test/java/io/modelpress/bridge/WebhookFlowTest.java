package io.modelpress.bridge;

import static io.modelpress.bridge.BridgeTestResource.BUCKET;
import static io.modelpress.bridge.BridgeTestResource.SECRET;
import static io.modelpress.bridge.Fixtures.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelpress.bridge.registry.Bridge;
import io.modelpress.bridge.registry.Json;
import io.modelpress.bridge.registry.ModelStatus;
import io.modelpress.bridge.registry.WebhookSignature;
import io.modelpress.common.EventSchemas;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** MLflow webhooks end to end: the real broker and S3 server, the MLflow double sending as MLflow does. */
@QuarkusTest
@QuarkusTestResource(value = BridgeTestResource.class, restrictToAnnotatedClass = false)
class WebhookFlowTest {

    @TestHTTPResource("/hooks/mlflow")
    URI hook;

    @Inject
    Bridge bridge;

    private static MlflowDouble mlflow() {
        return BridgeTestResource.mlflow;
    }

    private Optional<ModelStatus> status(String name, String version) {
        return bridge.status().get(name, version);
    }

    private String state(String name, String version) {
        return status(name, version).map(ModelStatus::state).orElse("unknown");
    }

    private MlflowDouble.Delivery created(String name, String version) {
        return MlflowDouble.delivery(SECRET, "model_version", "created", MlflowDouble.versionCreated(name, version,
                "models:/m-0a1b2c3d", Map.of()));
    }

    @Test
    void aValidDeliveryPublishesOneEventAndResultsComeBackAsTags() throws Exception {
        String name = "fraud-detector";
        byte[] model = Fixtures.bytes(5_000, 1);
        byte[] data = Fixtures.bytes(40_000, 2);
        String uri = Fixtures.putS3Model("1/0a1b2c3d/artifacts/model", model, data);
        mlflow().addVersion(name, "1", uri, Map.of("team", "risk", "modelpress.profiles", "x86-vnni, arm-int8",
                "modelpress.max_accuracy_drop", "0.01"));

        MlflowDouble.Delivery delivery = created(name, "1");
        assertEquals(List.of(202), mlflow().sendWithRetries(hook, delivery, 3));
        await("the version is published", () -> ModelStatus.PUBLISHED.equals(state(name, "1")));

        List<Topics.Event> events = Topics.read(Topics.REGISTERED, name);
        assertEquals(1, events.size(), "one model-registered event");
        Topics.Event event = events.get(0);
        assertEquals("io.modelpress.model.registered", event.headers().get("ce_type"));
        assertEquals("1.0", event.headers().get("ce_specversion"));
        assertEquals(List.of(), EventSchemas.validate(EventSchemas.MODEL_REGISTERED, event.data()));
        assertEquals(name, event.data().path("modelId").asText());
        assertEquals("1", event.data().path("version").asText());
        assertEquals("s3://models/registry/mlflow/fraud-detector/1/model.onnx", event.data().path("artifactUri").asText());
        assertEquals(List.of("x86-vnni", "arm-int8"), List.of(event.data().path("profiles").get(0).asText(),
                event.data().path("profiles").get(1).asText()));
        assertEquals(0.01, event.data().path("budgets").path("maxAccuracyDrop").asDouble());
        assertEquals("risk", event.data().path("labels").path("team").asText());
        assertFalse(event.data().path("labels").has("modelpress.profiles"), "request tags are not labels");
        // the whole directory came over, the UUID-named external data with it
        String copied = "registry/mlflow/fraud-detector/1/";
        assertArrayEquals(model, Fixtures.get(BUCKET, copied + "model.onnx"));
        assertArrayEquals(data, Fixtures.get(BUCKET, copied + Fixtures.EXTERNAL_DATA));
        assertEquals(java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(model)),
                event.data().path("sha256").asText(), "the model file's digest, which the compressor checks before parsing");
        assertTrue(new String(Fixtures.get(BUCKET, copied + "MLmodel"), StandardCharsets.UTF_8).contains("mlflow.onnx"));
        await("the version is tagged published", () -> "published".equals(mlflow().version(name, "1").tags
                .get("modelpress.status")));

        // MLflow retries with the same delivery id and timestamp: answered, not queued again
        HttpResponse<String> retry = mlflow().send(hook, delivery);
        assertEquals(200, retry.statusCode());
        assertTrue(retry.body().contains("duplicate"), retry.body());
        assertEquals(1, Topics.read(Topics.REGISTERED, name).size(), "a retried delivery is not published twice");

        // the compressor's result comes back as tags, and a version of fraud-detector-x86-vnni
        ObjectNode result = Fixtures.result(name, "1", "x86-vnni", "mlflow");
        Topics.publish(Topics.RESULTS, name, result);
        await("the result is tagged", () -> "complete".equals(mlflow().version(name, "1").tags
                .get("modelpress.x86-vnni.status")));
        Map<String, String> tags = mlflow().version(name, "1").tags;
        assertEquals(String.format(java.util.Locale.ROOT, "%.4f", result.path("sizes").path("sizeRatio").asDouble()),
                tags.get("modelpress.x86-vnni.size_ratio"));
        assertEquals(result.path("artifact").path("uri").asText(), tags.get("modelpress.x86-vnni.artifact_uri"));
        assertTrue(tags.get("modelpress.x86-vnni.judged_by").startsWith("fidelity on "), tags.toString());
        assertTrue(tags.containsKey("modelpress.x86-vnni.drop"), tags.toString());
        await("the compressed model is registered", () -> mlflow().version(name, "1").tags
                .containsKey("modelpress.x86-vnni.registered_version"));
        assertEquals("fraud-detector-x86-vnni/1", mlflow().version(name, "1").tags
                .get("modelpress.x86-vnni.registered_version"));
        assertEquals("models:/fraud-detector/1", mlflow().version("fraud-detector-x86-vnni", "1").tags
                .get("modelpress.source"));

        // a replayed result changes nothing: no tag set again, no second registration
        int tagCalls = mlflow().tagCalls(name, "1").size();
        int registered = mlflow().createdVersions.size();
        Topics.publish(Topics.RESULTS, name, result);
        // a later record of the same partition marks that the replay was consumed
        String marker = "fraud-detector-marker";
        mlflow().addVersion(marker, "1", uri, Map.of());
        Topics.publish(Topics.RESULTS, marker, Fixtures.result(marker, "1", "x86-vnni", "mlflow"));
        await("the marker is registered", () -> mlflow().version(marker, "1").tags
                .containsKey("modelpress.x86-vnni.registered_version"));
        assertEquals(tagCalls, mlflow().tagCalls(name, "1").size(), "a replayed result sets no tag");
        assertEquals(registered + 1, mlflow().createdVersions.size(), "only the marker registered a version");

        // a failed profile is tagged with its reason
        ObjectNode failure = (ObjectNode) Json.mapper().readTree(java.nio.file.Files.readString(
                java.nio.file.Path.of("../../schemas/examples/failure.example.json")));
        failure.put("modelId", name).put("version", "1").put("profile", "arm-int8").put("stage", "compress")
                .put("reason", "int8-static: calibration data does not fit input 'x'");
        ((ObjectNode) failure.path("original")).put("value", Json.write(event.data()));
        assertEquals(List.of(), EventSchemas.validate(EventSchemas.FAILURE, failure));
        Topics.publish(Topics.FAILURES, name, failure);
        await("the failure is tagged", () -> "failed".equals(mlflow().version(name, "1").tags
                .get("modelpress.arm-int8.status")));
        assertEquals("compress: int8-static: calibration data does not fit input 'x'",
                mlflow().version(name, "1").tags.get("modelpress.arm-int8.reason"));
    }

    @Test
    void aBadSignatureIsRefusedAndNothingIsQueued() throws Exception {
        MlflowDouble.Delivery good = created("bad-signature", "1");
        MlflowDouble.Delivery wrongSecret = new MlflowDouble.Delivery(good.id(), good.timestamp(),
                WebhookSignature.sign("not-the-secret", good.id(), good.timestamp(), good.body()), good.body());
        HttpResponse<String> answer = mlflow().send(hook, wrongSecret);
        assertEquals(401, answer.statusCode());
        assertTrue(answer.body().contains("X-MLflow-Signature"), answer.body());
        assertEquals("application/problem+json", answer.headers().firstValue("Content-Type").orElse(""));

        byte[] tampered = new String(good.body(), StandardCharsets.UTF_8).replace("bad-signature", "bad-signaturf")
                .getBytes(StandardCharsets.UTF_8);
        assertEquals(401, mlflow().send(hook, new MlflowDouble.Delivery(good.id(), good.timestamp(), good.signature(),
                tampered)).statusCode());
        assertEquals(401, mlflow().send(hook, new MlflowDouble.Delivery(good.id(), good.timestamp(), null,
                good.body())).statusCode(), "unsigned deliveries are refused when a secret is set");
        assertTrue(status("bad-signature", "1").isEmpty());
        assertFalse(bridge.journal().known(io.modelpress.bridge.registry.Delivery.mlflowKey(good.id())),
                "nothing journaled");
        assertEquals(0, Topics.read(Topics.REGISTERED, "bad-signature").size());
    }

    @Test
    void aStaleTimestampIsRefusedEvenWhenSigned() throws Exception {
        MlflowDouble.Delivery fresh = created("stale", "1");
        String old = String.valueOf(Instant.now().getEpochSecond() - 6 * 60);
        MlflowDouble.Delivery stale = new MlflowDouble.Delivery(fresh.id(), old,
                WebhookSignature.sign(SECRET, fresh.id(), old, fresh.body()), fresh.body());
        HttpResponse<String> answer = mlflow().send(hook, stale);
        assertEquals(401, answer.statusCode());
        assertTrue(answer.body().contains("window"), answer.body());
        assertTrue(status("stale", "1").isEmpty());
    }

    @Test
    void unknownEntitiesAndActionsAreAnsweredAndIgnored() throws Exception {
        for (String[] event : new String[][] {{"registered_model", "created"}, {"model_version", "deleted"},
                {"prompt", "created"}}) {
            MlflowDouble.Delivery delivery = MlflowDouble.delivery(SECRET, event[0], event[1],
                    Json.object().put("name", "ignored-model").put("version", "1"));
            HttpResponse<String> answer = mlflow().send(hook, delivery);
            assertEquals(200, answer.statusCode(), String.join(".", event));
            assertTrue(answer.body().contains("ignored"), answer.body());
        }
        ObjectNode otherTag = Json.object().put("name", "ignored-model").put("version", "1").put("key", "stage")
                .put("value", "prod");
        assertTrue(mlflow().send(hook, MlflowDouble.delivery(SECRET, "model_version_tag", "set", otherTag)).body()
                .contains("ignored"));
        assertTrue(status("ignored-model", "1").isEmpty());
    }

    @Test
    void aBodyThatIsNotAnEventIsABadRequest() throws Exception {
        byte[] body = "{not json".getBytes(StandardCharsets.UTF_8);
        String id = "d-not-json";
        String ts = String.valueOf(Instant.now().getEpochSecond());
        HttpResponse<String> answer = mlflow().send(hook, new MlflowDouble.Delivery(id, ts,
                WebhookSignature.sign(SECRET, id, ts, body), body));
        assertEquals(400, answer.statusCode());
        assertTrue(answer.body().contains("not JSON"), answer.body());
        byte[] noData = "{\"entity\":\"model_version\",\"action\":\"created\"}".getBytes(StandardCharsets.UTF_8);
        assertEquals(400, mlflow().send(hook, new MlflowDouble.Delivery("d-no-data", ts,
                WebhookSignature.sign(SECRET, "d-no-data", ts, noData), noData)).statusCode());
    }

    @Test
    void theTriggerTagStartsACompression() throws Exception {
        String name = "tag-triggered";
        mlflow().addVersion(name, "4", Fixtures.putS3Model("tag-triggered/4", Fixtures.bytes(800, 4), null), Map.of());
        ObjectNode data = Json.object().put("name", name).put("version", "4").put("key", "modelpress.compress")
                .put("value", "true");
        assertEquals(202, mlflow().send(hook, MlflowDouble.delivery(SECRET, "model_version_tag", "set", data))
                .statusCode());
        await("published", () -> ModelStatus.PUBLISHED.equals(state(name, "4")));
        JsonNode event = Topics.read(Topics.REGISTERED, name).get(0).data();
        assertEquals("x86-vnni", event.path("profiles").get(0).asText(), "the bridge's default profile");
    }

    @Test
    void theTriggerAliasStartsACompressionAndOtherAliasesAreIgnored() throws Exception {
        String name = "alias-triggered";
        mlflow().addVersion(name, "2", Fixtures.putS3Model("alias-triggered/2", Fixtures.bytes(700, 16), null), Map.of());
        ObjectNode champion = Json.object().put("name", name).put("alias", "champion").put("version", "2");
        assertTrue(mlflow().send(hook, MlflowDouble.delivery(SECRET, "model_version_alias", "created", champion)).body()
                .contains("ignored"));
        ObjectNode compress = Json.object().put("name", name).put("alias", BridgeTestResource.TRIGGER_ALIAS)
                .put("version", "2");
        assertEquals(202, mlflow().send(hook, MlflowDouble.delivery(SECRET, "model_version_alias", "created", compress))
                .statusCode());
        await("published", () -> ModelStatus.PUBLISHED.equals(state(name, "2")));
        assertEquals(1, Topics.read(Topics.REGISTERED, name).size());
    }

    @Test
    void aFailureOfTheWholeModelIsTaggedOnTheVersion() throws Exception {
        String name = "unloadable";
        MlflowDouble.Version version = mlflow().addVersion(name, "1", Fixtures.putS3Model("unloadable/1",
                Fixtures.bytes(600, 17), null), Map.of());
        assertEquals(202, mlflow().send(hook, created(name, "1")).statusCode());
        await("published", () -> ModelStatus.PUBLISHED.equals(state(name, "1")));
        JsonNode event = Topics.read(Topics.REGISTERED, name).get(0).data();
        ObjectNode failure = (ObjectNode) Json.mapper().readTree(java.nio.file.Files.readString(
                java.nio.file.Path.of("../../schemas/examples/failure.example.json")));
        failure.put("modelId", name).put("version", "1").put("stage", "load")
                .put("reason", "model.onnx is not a valid ONNX model: protobuf parse error");
        failure.remove("profile");
        ((ObjectNode) failure.path("original")).put("value", Json.write(event));
        assertEquals(List.of(), EventSchemas.validate(EventSchemas.FAILURE, failure));
        Topics.publish(Topics.FAILURES, name, failure);
        await("tagged failed", () -> "failed".equals(version.tags.get("modelpress.status")));
        assertEquals("load: model.onnx is not a valid ONNX model: protobuf parse error",
                version.tags.get("modelpress.reason"));
        assertEquals(ModelStatus.FAILED, state(name, "1"));
    }

    @Test
    void versionsThatCannotBeAnnouncedEndFailedWithTheReason() throws Exception {
        String folder = Fixtures.putS3Model("unannounceable/1", Fixtures.bytes(500, 18), null);
        mlflow().addVersion("bad-budget", "1", folder, Map.of("modelpress.max_accuracy_drop", "one point"));
        mlflow().addVersion("Churn model", "1", folder, Map.of());
        for (String name : List.of("bad-budget", "Churn model", "not-in-mlflow")) {
            assertEquals(202, mlflow().send(hook, created(name, "1")).statusCode());
        }
        await("all failed", () -> List.of("bad-budget", "Churn model", "not-in-mlflow").stream()
                .allMatch(name -> ModelStatus.FAILED.equals(state(name, "1"))));
        assertEquals("tag modelpress.max_accuracy_drop: 'one point' is not a number",
                status("bad-budget", "1").orElseThrow().reason());
        assertTrue(status("Churn model", "1").orElseThrow().reason().contains("cannot be a modelpress model id"),
                status("Churn model", "1").orElseThrow().reason());
        assertTrue(status("not-in-mlflow", "1").orElseThrow().reason().contains("RESOURCE_DOES_NOT_EXIST"),
                status("not-in-mlflow", "1").orElseThrow().reason());
        for (String name : List.of("bad-budget", "Churn model", "not-in-mlflow")) {
            assertEquals(0, Topics.read(Topics.REGISTERED, name).size(), name);
        }
    }

    @Test
    void anUnavailableRegistryIsTriedAgainUntilItAnswers() throws Exception {
        String name = "registry-restarting";
        mlflow().addVersion(name, "1", Fixtures.putS3Model("restarting/1", Fixtures.bytes(500, 19), null), Map.of());
        mlflow().unavailable = true;
        try {
            MlflowDouble.Delivery delivery = created(name, "1");
            assertEquals(202, mlflow().send(hook, delivery).statusCode());
            String key = io.modelpress.bridge.registry.Delivery.mlflowKey(delivery.id());
            await("a failed attempt is counted in the journal", () -> bridge.journal().pending().stream()
                    .anyMatch(d -> d.key().equals(key) && d.attempts() >= 1));
            assertEquals(ModelStatus.ACCEPTED, state(name, "1"));
        } finally {
            mlflow().unavailable = false;
        }
        await("published", () -> ModelStatus.PUBLISHED.equals(state(name, "1")));
        assertEquals(1, Topics.read(Topics.REGISTERED, name).size());
    }

    @Test
    void aPendingVersionIsAwaitedThenPublishedOnce() throws Exception {
        String name = "pending-model";
        MlflowDouble.Version version = mlflow().addVersion(name, "2", Fixtures.putS3Model("pending/2",
                Fixtures.bytes(1000, 3), null), Map.of());
        version.status = "PENDING_REGISTRATION";
        assertEquals(202, mlflow().send(hook, created(name, "2")).statusCode());
        Thread.sleep(1500); // several polls at the test's 200 ms
        assertEquals(ModelStatus.ACCEPTED, state(name, "2"), "still waiting");
        assertEquals(0, Topics.read(Topics.REGISTERED, name).size());
        version.status = "READY";
        await("published", () -> ModelStatus.PUBLISHED.equals(state(name, "2")));
        assertEquals(1, Topics.read(Topics.REGISTERED, name).size());
    }

    @Test
    void aFailedRegistrationEndsFailedWithTheReason() throws Exception {
        String name = "failed-registration";
        MlflowDouble.Version version = mlflow().addVersion(name, "1", "s3://mlflow-artifacts/nowhere", Map.of());
        version.status = "FAILED_REGISTRATION";
        version.statusMessage = "Failed to copy model artifacts";
        assertEquals(202, mlflow().send(hook, created(name, "1")).statusCode());
        await("failed", () -> ModelStatus.FAILED.equals(state(name, "1")));
        String reason = status(name, "1").orElseThrow().reason();
        assertTrue(reason.contains("FAILED_REGISTRATION") && reason.contains("Failed to copy model artifacts"), reason);
        await("tagged failed", () -> "failed".equals(version.tags.get("modelpress.status")));
        assertEquals(reason, version.tags.get("modelpress.reason"));
        assertEquals(0, Topics.read(Topics.REGISTERED, name).size());
    }

    @Test
    void artifactsServedByTheProxyAreCopiedWithTheirUuidExternalData() throws Exception {
        String name = "proxied-model";
        String folder = "2/models/m-7f3e/artifacts";
        byte[] model = Fixtures.bytes(3000, 5);
        byte[] data = Fixtures.bytes(30_000, 6);
        mlflow().addArtifact(folder + "/MLmodel", Fixtures.mlmodel("model.onnx").getBytes(StandardCharsets.UTF_8));
        mlflow().addArtifact(folder + "/model.onnx", model);
        mlflow().addArtifact(folder + "/" + Fixtures.EXTERNAL_DATA, data);
        mlflow().addArtifact(folder + "/python_env.yaml", "python: 3.11.9\n".getBytes(StandardCharsets.UTF_8));
        mlflow().addArtifact(folder + "/metadata/MLmodel", "nested".getBytes(StandardCharsets.UTF_8));
        mlflow().addVersion(name, "3", "mlflow-artifacts:/" + folder, Map.of());
        assertEquals(202, mlflow().send(hook, created(name, "3")).statusCode());
        await("published", () -> ModelStatus.PUBLISHED.equals(state(name, "3")));
        String copied = "registry/mlflow/proxied-model/3/";
        assertArrayEquals(model, Fixtures.get(BUCKET, copied + "model.onnx"));
        assertArrayEquals(data, Fixtures.get(BUCKET, copied + Fixtures.EXTERNAL_DATA));
        assertEquals("s3://models/" + copied + "model.onnx",
                Topics.read(Topics.REGISTERED, name).get(0).data().path("artifactUri").asText());
    }

    @Test
    void aMissingArtifactEndsFailed() throws Exception {
        String name = "missing-artifact";
        mlflow().addVersion(name, "1", "s3://mlflow-artifacts/5/gone/artifacts/model", Map.of());
        assertEquals(202, mlflow().send(hook, created(name, "1")).statusCode());
        await("failed", () -> ModelStatus.FAILED.equals(state(name, "1")));
        assertTrue(status(name, "1").orElseThrow().reason().contains("missing or empty"),
                status(name, "1").orElseThrow().reason());
        assertEquals(0, Topics.read(Topics.REGISTERED, name).size());
    }

    @Test
    void aModelOverTheLimitEndsFailed() throws Exception {
        String name = "too-large";
        mlflow().addVersion(name, "1", Fixtures.putS3Model("too-large/1", Fixtures.bytes(1000, 7),
                Fixtures.bytes((int) BridgeTestResource.MAX_MODEL_BYTES, 8)), Map.of());
        assertEquals(202, mlflow().send(hook, created(name, "1")).statusCode());
        await("failed", () -> ModelStatus.FAILED.equals(state(name, "1")));
        String reason = status(name, "1").orElseThrow().reason();
        assertTrue(reason.contains("over the bridge's limit of " + BridgeTestResource.MAX_MODEL_BYTES), reason);
        assertEquals(0, Topics.read(Topics.REGISTERED, name).size());
        assertFalse(BridgeTestResource.s3().listObjects(io.minio.ListObjectsArgs.builder().bucket(BUCKET)
                .prefix("registry/mlflow/too-large/").build()).iterator().hasNext(), "nothing copied");
    }
}

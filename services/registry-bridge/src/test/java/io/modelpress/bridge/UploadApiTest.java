package io.modelpress.bridge;

import static io.modelpress.bridge.BridgeTestResource.BUCKET;
import static io.modelpress.bridge.Fixtures.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelpress.bridge.registry.Json;
import io.modelpress.common.EventSchemas;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** POST /models and GET /models/{id}/{version} over HTTP, with the real broker and S3 server. */
@QuarkusTest
class UploadApiTest {

    @TestHTTPResource("/")
    URI base;

    private final HttpClient http = HttpClient.newHttpClient();

    /** One part of a multipart/form-data body. */
    record Part(String name, String fileName, byte[] content) {
    }

    private HttpResponse<String> upload(List<Part> parts) throws IOException, InterruptedException {
        String boundary = "test-" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (Part part : parts) {
            body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + part.name() + "\""
                    + (part.fileName() == null ? "" : "; filename=\"" + part.fileName() + "\"") + "\r\nContent-Type: "
                    + (part.fileName() == null ? "application/json" : "application/octet-stream") + "\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            body.writeBytes(part.content());
            body.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        body.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return http.send(HttpRequest.newBuilder(base.resolve("models"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(base.resolve(path.substring(1))).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        return Json.mapper().readTree(response.body()).deepCopy();
    }

    private static Part metadata(String json) {
        return new Part("metadata", null, json.getBytes(StandardCharsets.UTF_8));
    }

    private static Part model(String fileName, byte[] content) {
        return new Part("model", fileName, content);
    }

    @Test
    void anUploadIsStoredPublishedAndItsResultsCanBePolled() throws Exception {
        byte[] model = Fixtures.bytes(4000, 11);
        byte[] data = Fixtures.bytes(20_000, 12);
        byte[] calibration = Fixtures.bytes(3000, 13);
        HttpResponse<String> answer = upload(List.of(
                metadata("{\"modelId\":\"uploads/tiny-mlp\",\"version\":\"1\",\"profiles\":[\"x86-vnni\"],"
                        + "\"labels\":{\"owner\":\"vision-team\"},\"budgets\":{\"maxAccuracyDrop\":0.02}}"),
                model("tiny.onnx", model), new Part("externalData", "tiny.onnx.data", data),
                new Part("calibration", "digits.npz", calibration)));
        assertEquals(202, answer.statusCode(), answer.body());
        String location = answer.headers().firstValue("Location").orElseThrow();
        assertTrue(location.endsWith("/models/uploads/tiny-mlp/1"), location);

        await("published", () -> {
            try {
                return "published".equals(get("/models/uploads/tiny-mlp/1").path("state").asText());
            } catch (Exception e) {
                return false;
            }
        });
        List<Topics.Event> events = Topics.read(Topics.REGISTERED, "uploads/tiny-mlp");
        assertEquals(1, events.size());
        JsonNode event = events.get(0).data();
        assertEquals(List.of(), EventSchemas.validate(EventSchemas.MODEL_REGISTERED, event));
        String folder = "registry/upload/uploads/tiny-mlp/1/";
        assertEquals("s3://models/" + folder + "model/tiny.onnx", event.path("artifactUri").asText());
        assertEquals("s3://models/" + folder + "data/calibration.npz", event.path("calibrationDataUri").asText());
        assertEquals("vision-team", event.path("labels").path("owner").asText());
        assertEquals(0.02, event.path("budgets").path("maxAccuracyDrop").asDouble());
        assertArrayEquals(model, Fixtures.get(BUCKET, folder + "model/tiny.onnx"));
        assertArrayEquals(data, Fixtures.get(BUCKET, folder + "model/tiny.onnx.data"));
        assertEquals("pending", get("/models/uploads/tiny-mlp/1").path("profiles").path("x86-vnni").path("status")
                .asText());

        Topics.publish(Topics.RESULTS, "uploads/tiny-mlp", Fixtures.result("uploads/tiny-mlp", "1", "x86-vnni", "upload"));
        await("the result shows in the status", () -> {
            try {
                return "complete".equals(get("/models/uploads/tiny-mlp/1").path("profiles").path("x86-vnni")
                        .path("status").asText());
            } catch (Exception e) {
                return false;
            }
        });
        JsonNode profile = get("/models/uploads/tiny-mlp/1").path("profiles").path("x86-vnni");
        assertTrue(profile.path("sizeRatio").asDouble() > 1, profile.toString());
        assertTrue(profile.path("artifactUri").asText().endsWith("model.onnx"), profile.toString());
        assertTrue(profile.path("reportUri").asText().contains("/reports/"), profile.toString());

        HttpResponse<String> again = upload(List.of(metadata("{\"modelId\":\"uploads/tiny-mlp\",\"version\":\"1\"}"),
                model("tiny.onnx", model)));
        assertEquals(409, again.statusCode());
        assertEquals("metadata.version", Json.mapper().readTree(again.body()).path("field").asText());
    }

    @Test
    void badInputIsAProblemNamingTheField() throws Exception {
        byte[] model = Fixtures.bytes(100, 14);
        List<Object[]> cases = new ArrayList<>();
        cases.add(new Object[] {List.of(metadata("{not json"), model("m.onnx", model)), 400, "metadata"});
        cases.add(new Object[] {List.of(metadata("{\"modelId\":\"m\",\"version\":\"1\",\"profile\":\"x86-vnni\"}"),
                model("m.onnx", model)), 400, "metadata.profile"});
        cases.add(new Object[] {List.of(metadata("{\"version\":\"1\"}"), model("m.onnx", model)), 400,
                "metadata.modelId"});
        cases.add(new Object[] {List.of(metadata("{\"modelId\":\"m\",\"version\":\"1\",\"profiles\":[\"X86 VNNI\"]}"),
                model("m.onnx", model)), 400, "metadata.profiles[0]"});
        cases.add(new Object[] {List.of(metadata("{\"modelId\":\"m\",\"version\":\"1\"}")), 400, "model"});
        cases.add(new Object[] {List.of(metadata("{\"modelId\":\"m\",\"version\":\"1\"}"), model("m.txt", model)), 400,
                "model"});
        cases.add(new Object[] {List.of(metadata("{\"modelId\":\"m\",\"version\":\"1\"}"), model("m.onnx",
                Fixtures.bytes((int) BridgeTestResource.MAX_UPLOAD_BYTES + 1, 15))), 413, "model"});
        for (Object[] c : cases) {
            @SuppressWarnings("unchecked")
            HttpResponse<String> answer = upload((List<Part>) c[0]);
            assertEquals(c[1], answer.statusCode(), answer.body());
            assertEquals("application/problem+json", answer.headers().firstValue("Content-Type").orElse(""));
            JsonNode problem = Json.mapper().readTree(answer.body());
            assertEquals(c[2], problem.path("field").asText(), answer.body());
            assertTrue(problem.path("detail").asText().startsWith(c[2] + ""), answer.body());
        }
        HttpResponse<String> unknown = http.send(HttpRequest.newBuilder(base.resolve("models/nobody/1")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(404, unknown.statusCode());
        assertTrue(unknown.body().contains("no model nobody version 1"), unknown.body());
    }

    @Test
    void theApiIsDescribedByOpenApi() throws Exception {
        String document = http.send(HttpRequest.newBuilder(base.resolve("openapi")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(document.contains("/models:") && document.contains("/hooks/mlflow:"), document);
    }
}

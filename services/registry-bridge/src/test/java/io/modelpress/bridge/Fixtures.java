package io.modelpress.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.minio.GetObjectArgs;
import io.minio.PutObjectArgs;
import io.modelpress.bridge.registry.Json;
import io.modelpress.common.EventSchemas;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Random;
import java.util.function.BooleanSupplier;

/** Model directories as mlflow.onnx.log_model writes them, result events, and waiting. */
final class Fixtures {

    /** The external-data file name mlflow.onnx.log_model writes: a UUID, no extension. */
    static final String EXTERNAL_DATA = "3f1c9a52-7d0e-4b8a-9a61-2c5d8e4f7b10";

    private Fixtures() {
    }

    static String mlmodel(String modelFile) {
        return """
                artifact_path: model
                flavors:
                  onnx:
                    code: null
                    data: %1$s
                    onnx_version: 1.17.0
                    providers:
                    - CPUExecutionProvider
                  python_function:
                    data: %1$s
                    env:
                      conda: conda.yaml
                      virtualenv: python_env.yaml
                    loader_module: mlflow.onnx
                    python_version: 3.11.9
                mlflow_version: 3.3.2
                model_size_bytes: 4242
                model_uuid: 9b0e2f7c4a1d4d8e8f3b6c5a2e1d0f9a
                """.formatted(modelFile);
    }

    static byte[] bytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    /** Writes an MLflow-style model directory into the MLflow bucket; returns its s3:// URI. */
    static String putS3Model(String folder, byte[] model, byte[] externalData) throws Exception {
        put(BridgeTestResource.MLFLOW_BUCKET, folder + "/MLmodel", mlmodel("model.onnx").getBytes(StandardCharsets.UTF_8));
        put(BridgeTestResource.MLFLOW_BUCKET, folder + "/model.onnx", model);
        put(BridgeTestResource.MLFLOW_BUCKET, folder + "/conda.yaml", "name: mlflow-env\n".getBytes(StandardCharsets.UTF_8));
        if (externalData != null) {
            put(BridgeTestResource.MLFLOW_BUCKET, folder + "/" + EXTERNAL_DATA, externalData);
        }
        return "s3://" + BridgeTestResource.MLFLOW_BUCKET + "/" + folder;
    }

    static void put(String bucket, String key, byte[] content) throws Exception {
        BridgeTestResource.s3().putObject(PutObjectArgs.builder().bucket(bucket).object(key)
                .stream(new ByteArrayInputStream(content), content.length, -1).build());
    }

    static byte[] get(String bucket, String key) throws Exception {
        try (InputStream in = BridgeTestResource.s3().getObject(GetObjectArgs.builder().bucket(bucket).object(key).build())) {
            return in.readAllBytes();
        }
    }

    /** The example result of schemas/examples, made about this model version and profile. */
    static ObjectNode result(String modelId, String version, String profile, String registry) throws Exception {
        ObjectNode data = (ObjectNode) Json.mapper().readTree(Files.readString(
                Path.of("../../schemas/examples/compression-result.example.json")));
        data.put("modelId", modelId);
        data.put("version", version);
        data.put("profile", profile);
        String folder = "s3://models/registry/mlflow/" + modelId + "/" + version + "/modelpress/" + profile + "/abc/";
        ((ObjectNode) data.path("artifact")).put("uri", folder + "model.onnx");
        ((ObjectNode) data.path("artifact")).put("reportUri", folder + "reports/0cffd75cac4504ba.json");
        ((ObjectNode) data.path("artifact")).remove("dataUri");
        ObjectNode labels = data.putObject("labels");
        labels.put("modelpress.registry", registry);
        assertEquals(java.util.List.of(), EventSchemas.validate(EventSchemas.COMPRESSION_RESULT, data),
                "the test's result event must be schema-valid");
        return data;
    }

    /** Waits for a condition the bridge reaches on its own threads; fails naming it after a minute. */
    static void await(String what, BooleanSupplier condition) {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (!condition.getAsBoolean()) {
            if (Instant.now().isAfter(deadline)) {
                fail("never happened: " + what);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted waiting for " + what);
            }
        }
    }
}

package io.modelpress.bridge;

import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.modelpress.localstack.LocalStack;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A real Kafka broker and S3 server (child JVMs on loopback ports) and the MLflow double, started by the
 * test run itself. MLflow keeps its artifacts in a bucket of its own, so the bridge has to copy them.
 */
public final class BridgeTestResource implements QuarkusTestResourceLifecycleManager {

    static final String BUCKET = "models";
    static final String MLFLOW_BUCKET = "mlflow-artifacts";
    static final String SECRET = "whsec-modelpress-test";
    static final long MAX_MODEL_BYTES = 200_000;
    static final long MAX_UPLOAD_BYTES = 300_000;
    static final String TRIGGER_TAG = "modelpress.compress=true";
    static final String TRIGGER_ALIAS = "compress";

    static volatile LocalStack stack;
    static volatile MlflowDouble mlflow;
    static volatile Path work;

    @Override
    public Map<String, String> start() {
        try {
            work = Files.createTempDirectory("modelpress-bridge-test-");
            stack = LocalStack.start(work.resolve("stack"));
            mlflow = new MlflowDouble();
            MinioClient s3 = s3();
            s3.makeBucket(MakeBucketArgs.builder().bucket(MLFLOW_BUCKET).build());
        } catch (Exception e) {
            stop();
            throw new IllegalStateException("cannot start the test stack: " + e.getMessage(), e);
        }
        Map<String, String> config = new HashMap<>();
        config.put("kafka.bootstrap.servers", stack.bootstrapServers());
        config.put("modelpress.bridge.s3.endpoint", stack.s3Endpoint().toString());
        config.put("modelpress.bridge.s3.access-key", stack.accessKey());
        config.put("modelpress.bridge.s3.secret-key", stack.secretKey());
        config.put("modelpress.bridge.bucket", BUCKET);
        config.put("modelpress.bridge.data-dir", work.resolve("bridge").toString());
        config.put("modelpress.bridge.mlflow.url", mlflow.url().toString());
        config.put("modelpress.bridge.webhook.secret", SECRET);
        config.put("modelpress.bridge.webhook.trigger-tag", TRIGGER_TAG);
        config.put("modelpress.bridge.webhook.trigger-alias", TRIGGER_ALIAS);
        config.put("modelpress.bridge.max-model-bytes", String.valueOf(MAX_MODEL_BYTES));
        config.put("modelpress.bridge.upload.max-bytes", String.valueOf(MAX_UPLOAD_BYTES));
        config.put("modelpress.bridge.default-profiles", "x86-vnni");
        config.put("modelpress.bridge.register-compressed", "true");
        return config;
    }

    @Override
    public void stop() {
        if (mlflow != null) {
            mlflow.close();
        }
        if (stack != null) {
            stack.close();
        }
        if (work != null) {
            try (Stream<Path> files = Files.walk(work)) {
                files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            } catch (IOException | UncheckedIOException ignored) {
                // a temp folder left behind is harmless
            }
        }
    }

    static MinioClient s3() {
        return MinioClient.builder().endpoint(stack.s3Endpoint().toString())
                .credentials(stack.accessKey(), stack.secretKey()).region("us-east-1").build();
    }
}

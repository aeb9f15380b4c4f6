package io.modelpress.compressor;

import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.modelpress.compressor.testplugins.JarOnlyPlugin;
import io.modelpress.localstack.LocalStack;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** A real Kafka broker and a real S3 server for the service under test, started by the test run itself. */
public final class LocalStackResource implements QuarkusTestResourceLifecycleManager {

    public static final String BUCKET = "models";
    /** Small, so that a test can go over it cheaply; the real models of the tests are well under it. */
    public static final long MAX_ARTIFACT_BYTES = 3_000_000;

    /** Plugin jars of the test plugins folder: allowed with its digest, not allowed, allowed with another digest. */
    public static final String VETTED_JAR = "vetted.jar";
    public static final String UNLISTED_JAR = "unlisted.jar";
    public static final String CHANGED_JAR = "changed.jar";
    public static final String CHANGED_SHA256 = "0123456789abcdef".repeat(4);
    /** The profile whose plugin steps run under a 3 s limit. */
    public static final String SHORT_STEPS_PROFILE = "wasm";

    private LocalStack stack;
    private Path work;

    @Override
    public Map<String, String> start() {
        try {
            work = Files.createTempDirectory("modelpress-compressor-test-");
            stack = LocalStack.start(work.resolve("stack"));
            withBucket(stack);
        } catch (Exception e) {
            stop();
            throw new IllegalStateException("cannot start the local stack: " + e.getMessage(), e);
        }
        Map<String, String> config = new HashMap<>();
        config.put("kafka.bootstrap.servers", stack.bootstrapServers());
        config.put("modelpress.s3.endpoint", stack.s3Endpoint().toString());
        config.put("modelpress.s3.access-key", stack.accessKey());
        config.put("modelpress.s3.secret-key", stack.secretKey());
        config.put("modelpress.work-dir", work.resolve("work").toString());
        config.put("modelpress.max-artifact-bytes", String.valueOf(MAX_ARTIFACT_BYTES));
        config.put("modelpress.benchmark.warmup", "1");
        config.put("modelpress.benchmark.iterations", "3");
        // A plugins folder as an operator keeps it: one vetted jar, one never vetted, one changed since.
        Path plugins = work.resolve("plugins");
        try {
            String vetted = TestPluginJars.sha256(TestPluginJars.write(plugins.resolve(VETTED_JAR),
                    List.of(JarOnlyPlugin.class)));
            TestPluginJars.write(plugins.resolve(UNLISTED_JAR), List.of(JarOnlyPlugin.class));
            TestPluginJars.write(plugins.resolve(CHANGED_JAR), List.of(JarOnlyPlugin.class));
            config.put("modelpress.plugins-dir", plugins.toString());
            config.put("modelpress.plugins-allowed", VETTED_JAR + ":" + vetted + "," + CHANGED_JAR + ":" + CHANGED_SHA256);
        } catch (IOException e) {
            stop();
            throw new UncheckedIOException("cannot write the test plugin jars", e);
        }
        // Only the hanging-plugin test uses this profile: its steps get a short limit.
        config.put("modelpress.step-time-limits." + SHORT_STEPS_PROFILE, "3s");
        config.put("modelpress.step-cancel-grace", "1s");
        return config;
    }

    @Override
    public void stop() {
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

    /** Makes the bucket the tests store models in on the stack's S3 server; a client of that server. */
    static MinioClient withBucket(LocalStack stack) throws Exception {
        MinioClient s3 = client(stack.s3Endpoint().toString(), stack.accessKey(), stack.secretKey());
        s3.makeBucket(MakeBucketArgs.builder().bucket(BUCKET).build());
        return s3;
    }

    /**
     * What a packaged service a test starts is given: the stack, a work folder, the test bucket allowed, a free HTTP
     * port, and a short benchmark without the per-result memory measurement (those tests are about delivery, and
     * run many models on two cores).
     */
    static Map<String, String> serviceEnvironment(LocalStack stack, Path work) {
        Map<String, String> environment = new HashMap<>(stack.environment());
        environment.put("MODELPRESS_WORK_DIR", work.toString());
        environment.put("MODELPRESS_INPUTS_ALLOWED", BUCKET);
        environment.put("MODELPRESS_BENCHMARK_WARMUP", "1");
        environment.put("MODELPRESS_BENCHMARK_ITERATIONS", "3");
        environment.put("MODELPRESS_BENCHMARK_MEMORY", "false");
        environment.put("QUARKUS_HTTP_PORT", "0");
        return environment;
    }

    static MinioClient client(String endpoint, String accessKey, String secretKey) {
        return MinioClient.builder().endpoint(endpoint).credentials(accessKey, secretKey).region("us-east-1").build();
    }
}

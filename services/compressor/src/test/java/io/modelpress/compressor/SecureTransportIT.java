package io.modelpress.compressor;

import static io.modelpress.compressor.EventLog.FAILURES;
import static io.modelpress.compressor.EventLog.RESULTS;
import static io.modelpress.compressor.EventLog.on;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.minio.BucketExistsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.modelpress.common.TrustedCertificates;
import io.modelpress.compressor.ServiceRestartIT.Service;
import io.modelpress.localstack.LocalStack;
import io.modelpress.testkit.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged service against a broker that only lets it in over SASL_SSL (SCRAM-SHA-512) and an
 * S3 server that only speaks https, both with certificates of a CA made for the run: a model
 * registered over SASL_SSL is fetched over https and its result comes back over SASL_SSL. A wrong
 * or missing password ends the start with a reason that names the setting, and no secret is logged.
 */
class SecureTransportIT {

    private static final Duration WAIT = Duration.ofSeconds(120);

    @TempDir
    static Path temp;

    private static LocalStack stack;
    private static MinioClient s3;

    @BeforeAll
    static void startStack() throws Exception {
        stack = LocalStack.builder().workFolder(temp.resolve("stack")).tls(true).start();
        // The test's own client trusts the run's CA only: the S3 server is reached over https or not at all.
        s3 = MinioClient.builder().endpoint(stack.s3Endpoint().toString())
                .credentials(stack.accessKey(), stack.secretKey()).region("us-east-1")
                .httpClient(TrustedCertificates.httpClient(stack.certificates().caPem(), false)).build();
        s3.makeBucket(MakeBucketArgs.builder().bucket(LocalStackResource.BUCKET).build());
    }

    @AfterAll
    static void stopStack() {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void aModelRegisteredOverSaslSslIsFetchedOverHttpsAndAnsweredOverSaslSsl() throws Exception {
        assertEquals("https", stack.s3Endpoint().getScheme());
        MinioClient withoutTheCa = LocalStackResource.client(stack.s3Endpoint().toString(), stack.accessKey(),
                stack.secretKey());
        assertThrows(Exception.class, () -> withoutTheCa.bucketExists(BucketExistsArgs.builder()
                .bucket(LocalStackResource.BUCKET).build()), "the JDK's CAs alone do not trust the S3 server");

        String uri = Fixtures.storeWithExternalData(s3, TestModels.mlp(8, 16, 3, 21), "registry/tls/1", temp);
        String id = "tls/mlp";
        String event = Fixtures.withChain(Fixtures.unsigned(id, uri, "x86-vnni").put("sha256", Fixtures.sha256Of(s3, uri)),
                "graph-cleanup").toString();
        try (EventLog log = new EventLog(stack.kafkaClientSettings())) {
            Service service = Service.start(environment(), temp.resolve("service.log"));
            try {
                log.sendBinary(id, "registered-tls-1", event);
                JsonNode result = log.await(on(RESULTS, id), 1, WAIT).get(0).data();
                assertEquals(List.of(), log.matching(on(FAILURES, id)));

                Path local = Files.createDirectories(temp.resolve("result"));
                Files.write(local.resolve("model.onnx"), Fixtures.get(s3, result.path("artifact").path("uri").asText()));
                if (result.path("artifact").has("dataUri")) {
                    String dataUri = result.path("artifact").path("dataUri").asText();
                    Files.write(local.resolve(dataUri.substring(dataUri.lastIndexOf('/') + 1)), Fixtures.get(s3, dataUri));
                }
                CompressionFlowTest.assertSameOutputs(TestModels.mlp(8, 16, 3, 21), local.resolve("model.onnx"));

                log.drain(Duration.ofSeconds(1));
                for (EventLog.Event published : log.matching(e -> true)) {
                    assertFalse(published.data().toString().contains(stack.kafkaPassword()), "a secret in an event");
                    assertFalse(published.data().toString().contains(stack.secretKey()), "a secret in an event");
                }
            } finally {
                service.stop();
            }
            String console = service.read();
            assertFalse(console.contains(stack.kafkaPassword()), () -> "the Kafka password was logged:\n" + console);
            assertFalse(console.contains(stack.secretKey()), () -> "the S3 secret key was logged:\n" + console);
        }
    }

    @Test
    void aWrongPasswordEndsTheStartWithTheReasonAndNoHang() throws Exception {
        // Whether the service creates its topics at start or leaves them to the platform.
        for (String create : List.of("true", "false")) {
            Map<String, String> environment = environment();
            String wrong = "not-the-password-" + System.nanoTime();
            environment.put("MODELPRESS_KAFKA_SASL_PASSWORD", wrong);
            environment.put("MODELPRESS_TOPICS_CREATE", create);
            Service service = Service.launch(environment, List.of(), temp.resolve("wrong-password-" + create + ".log"));
            assertNotEquals(0, service.awaitExit(WAIT), "a refused login is no successful start");
            String console = service.read();
            assertTrue(console.contains("refused the SASL login"), () -> "the reason:\n" + console);
            assertTrue(console.contains("MODELPRESS_KAFKA_SASL_PASSWORD"), () -> "names the setting:\n" + console);
            assertFalse(console.contains(wrong), () -> "the password was logged:\n" + console);
        }
    }

    @Test
    void aMissingPasswordEndsTheStartNamingTheVariable() throws Exception {
        Map<String, String> environment = environment();
        environment.remove("MODELPRESS_KAFKA_SASL_PASSWORD");
        Service service = Service.launch(environment, List.of(), temp.resolve("no-password.log"));
        assertNotEquals(0, service.awaitExit(WAIT));
        String console = service.read();
        assertTrue(console.contains("MODELPRESS_KAFKA_SASL_PASSWORD is not set: MODELPRESS_KAFKA_SECURITY_PROTOCOL=SASL_SSL"
                + " needs it"), () -> "the reason:\n" + console);
    }

    private static Map<String, String> environment() {
        Map<String, String> environment = LocalStackResource.serviceEnvironment(stack, temp.resolve("work"));
        environment.put("MODELPRESS_SHUTDOWN_GRACE", "1s");
        return environment;
    }
}

package io.modelpress.localstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLHandshakeException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalStackTest {

    @TempDir
    Path work;

    @Test
    void startsARealBrokerAndS3ServerAndStopsThem() throws Exception {
        String servers;
        int s3Port;
        try (LocalStack stack = LocalStack.start(work)) {
            servers = stack.bootstrapServers();
            s3Port = stack.s3Endpoint().getPort();
            assertEquals(record(servers), "hello");

            // The S3 server checks credentials: an anonymous listing is refused with S3's own error.
            HttpURLConnection anonymous = (HttpURLConnection) stack.s3Endpoint().toURL().openConnection();
            assertEquals(403, anonymous.getResponseCode());
            String body = new String(anonymous.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(body.contains("AccessDenied"), body);
            assertEquals(Map.of("KAFKA_BOOTSTRAP_SERVERS", servers, "MODELPRESS_S3_ENDPOINT", stack.s3Endpoint().toString(),
                    "MODELPRESS_S3_ACCESS_KEY", "modelpress", "MODELPRESS_S3_SECRET_KEY", "modelpress-secret"),
                    stack.environment());
            assertTrue(Files.size(work.resolve("kafka/kafka.log")) > 0, "the broker logs through its own SLF4J binding");
        }
        int kafkaPort = Integer.parseInt(servers.substring(servers.lastIndexOf(':') + 1));
        assertFalse(listening(kafkaPort), "the broker still listens after close");
        assertFalse(listening(s3Port), "the S3 server still listens after close");
    }

    @Test
    void withTlsTheBrokerSpeaksSaslSslWithScramAndTheS3ServerHttpsWithTheRunsCertificates() throws Exception {
        try (LocalStack stack = LocalStack.builder().workFolder(work).tls(true).start()) {
            Map<String, Object> secure = stack.kafkaClientSettings();
            assertEquals("SASL_SSL", secure.get("security.protocol"));
            assertEquals("hello", record(secure));

            Map<String, Object> wrong = new HashMap<>(secure);
            wrong.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required"
                    + " username=\"" + stack.kafkaUser() + "\" password=\"not-the-password\";");
            try (Admin admin = Admin.create(withTimeouts(wrong))) {
                ExecutionException refused = assertThrows(ExecutionException.class,
                        () -> admin.listTopics().names().get(30, TimeUnit.SECONDS));
                assertInstanceOf(SaslAuthenticationException.class, refused.getCause(), refused::toString);
            }
            Map<String, Object> noTrust = new HashMap<>(secure);
            noTrust.remove("ssl.truststore.type");
            noTrust.remove("ssl.truststore.location");
            try (Admin admin = Admin.create(withTimeouts(noTrust))) {
                ExecutionException refused = assertThrows(ExecutionException.class,
                        () -> admin.listTopics().names().get(30, TimeUnit.SECONDS));
                assertInstanceOf(SslAuthenticationException.class, refused.getCause(),
                        "the JDK's CAs do not trust the run's certificate: " + refused);
            }

            // https only, with a certificate for 127.0.0.1 that the run's CA signed.
            assertEquals("https", stack.s3Endpoint().getScheme());
            HttpsURLConnection anonymous = (HttpsURLConnection) stack.s3Endpoint().toURL().openConnection();
            anonymous.setSSLSocketFactory(stack.certificates().sslContext().getSocketFactory());
            assertEquals(403, anonymous.getResponseCode());
            HttpsURLConnection untrusted = (HttpsURLConnection) stack.s3Endpoint().toURL().openConnection();
            assertThrows(SSLHandshakeException.class, untrusted::getResponseCode);
            assertTrue(Files.readString(stack.certificates().caPem()).startsWith("-----BEGIN CERTIFICATE-----"));
            assertEquals(Set.of("KAFKA_BOOTSTRAP_SERVERS", "MODELPRESS_KAFKA_SECURITY_PROTOCOL",
                    "MODELPRESS_KAFKA_SASL_USERNAME", "MODELPRESS_KAFKA_SASL_PASSWORD", "MODELPRESS_KAFKA_TRUSTSTORE",
                    "MODELPRESS_S3_ENDPOINT", "MODELPRESS_S3_CA_FILE", "MODELPRESS_S3_ACCESS_KEY",
                    "MODELPRESS_S3_SECRET_KEY"), stack.environment().keySet());
            assertEquals(stack.secureBootstrapServers(), stack.environment().get("KAFKA_BOOTSTRAP_SERVERS"));
        }
    }

    private static Map<String, Object> withTimeouts(Map<String, Object> settings) {
        Map<String, Object> all = new HashMap<>(settings);
        all.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 20000);
        all.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 25000);
        return all;
    }

    @Test
    void aChildThatCannotStartFailsWithItsLogTail() throws IOException {
        Path notKafka = Files.writeString(work.resolve("empty.jar"), "");
        LocalStackException error = assertThrows(LocalStackException.class, () -> LocalStack.builder()
                .workFolder(work.resolve("stack")).s3(false).kafkaClassPath(List.of(notKafka))
                .startTimeout(Duration.ofSeconds(30)).start());
        assertTrue(error.getMessage().startsWith("Kafka storage format exited with code 1"), error.getMessage());
        assertTrue(error.getMessage().contains("kafka.tools.StorageTool"), "the log tail names what failed: "
                + error.getMessage());
    }

    @Test
    void missingJarsAreNamedWithTheFix() {
        LocalStackException error = assertThrows(LocalStackException.class, () -> ClassPaths.resolve(
                "@M2_REPO@/org/example/a/1/a-1.jar|@M2_REPO@/org/example/b/1/b-1.jar", work, "test.classpath"));
        assertTrue(error.getMessage().startsWith("2 of 2 jars of test.classpath are not in the Maven repository " + work),
                error.getMessage());
        assertTrue(error.getMessage().contains("a-1.jar"), error.getMessage());
    }

    @Test
    void theBuildListsEveryJarOfBothClassPaths() {
        List<Path> kafka = ClassPaths.fromBuild(ClassPaths.KAFKA);
        assertTrue(kafka.stream().anyMatch(jar -> jar.getFileName().toString().startsWith("kafka_2.13-")), kafka::toString);
        assertTrue(kafka.stream().anyMatch(jar -> jar.getFileName().toString().startsWith("slf4j-simple-")), kafka::toString);
        assertFalse(kafka.stream().anyMatch(jar -> jar.toString().contains("junit")), kafka::toString);
        List<Path> s3 = ClassPaths.fromBuild(ClassPaths.S3PROXY);
        assertEquals(1, s3.size(), s3::toString);
    }

    private static String record(String servers) throws Exception {
        return record(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers));
    }

    private static String record(Map<String, Object> client) throws Exception {
        Properties producer = new Properties();
        producer.putAll(client);
        producer.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        producer.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> out = new KafkaProducer<>(producer)) {
            out.send(new ProducerRecord<>("local-stack-test", "key", "hello")).get(30, TimeUnit.SECONDS);
        }
        Properties consumer = new Properties();
        consumer.putAll(client);
        consumer.put(ConsumerConfig.GROUP_ID_CONFIG, "local-stack-test");
        consumer.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumer.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        consumer.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        try (KafkaConsumer<String, String> in = new KafkaConsumer<>(consumer)) {
            in.subscribe(List.of("local-stack-test"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : in.poll(Duration.ofMillis(500))) {
                    return record.value();
                }
            }
        }
        throw new AssertionError("no record came back within 30 s");
    }

    private static boolean listening(int port) {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}

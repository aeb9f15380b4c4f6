package io.modelpress.localstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
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
        Properties producer = new Properties();
        producer.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
        producer.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        producer.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> out = new KafkaProducer<>(producer)) {
            out.send(new ProducerRecord<>("local-stack-test", "key", "hello")).get(30, TimeUnit.SECONDS);
        }
        Properties consumer = new Properties();
        consumer.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
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

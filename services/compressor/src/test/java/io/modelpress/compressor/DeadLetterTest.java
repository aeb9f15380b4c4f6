package io.modelpress.compressor;

import static io.modelpress.compressor.EventLog.RESULTS;
import static io.modelpress.compressor.EventLog.on;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.minio.MinioClient;
import io.modelpress.testkit.TestModels;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A result the broker refuses (the results topic takes no record that large) cannot be published:
 * the record goes through the retry topics and then to the dead-letter topic, the input's offset
 * moves on, and the next event is answered once the topic takes results again.
 */
@QuarkusTest
@WithTestResource(LocalStackResource.class)
@TestProfile(DeadLetterTest.OwnBroker.class)
class DeadLetterTest {

    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final String DEAD_LETTERS = "modelpress.dead-letters";

    /** A profile of its own, so that the topic this test narrows belongs to a broker no other test uses. */
    public static final class OwnBroker implements QuarkusTestProfile {
    }

    @TempDir
    Path temp;

    @Test
    void aResultTheBrokerRefusesEndsInTheDeadLettersAndTheOffsetMovesOn() throws Exception {
        MinioClient s3 = Fixtures.s3();
        String uri = Fixtures.storeWithExternalData(s3, TestModels.mlp(8, 16, 3, 11), "registry/dead-letter/1", temp);
        String after = Fixtures.storeWithExternalData(s3, TestModels.mlp(8, 16, 3, 12), "registry/dead-letter/2", temp);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, Fixtures.bootstrapServers()));
                EventLog log = new EventLog(Fixtures.bootstrapServers());
                KafkaConsumer<String, byte[]> deadLetters = deadLetters()) {
            // Every result event is larger than this: the broker refuses each one (RecordTooLargeException).
            maxMessageBytes(admin, "256");
            log.sendBinary("dl/refused", "registered-dl-refused", Fixtures.registered("dl/refused", uri, "x86-vnni")
                    .toString());

            ConsumerRecord<String, byte[]> letter = awaitDeadLetter(deadLetters, "dl/refused");
            // The connector's delayed-retry strategy adds its headers on each round: the input topic, then each retry topic.
            assertTrue(headers(letter, "delayed-retry-topic").contains(EventLog.IN),
                    () -> "the dead letter names the input topic it came from: " + headers(letter, "delayed-retry-topic"));
            assertEquals(List.of("3"), headers(letter, "delayed-retry-count"), "sent to the dead letters after 3 retries");
            String reason = String.join(" | ", headers(letter, "delayed-retry-reason"));
            assertTrue(reason.contains("cannot publish an event") && reason.contains("RecordTooLargeException"),
                    () -> "the reason says what failed: " + reason);
            assertTrue(new String(letter.value(), StandardCharsets.UTF_8).contains("\"dl/refused\""),
                    "the dead letter carries the original event");
            log.awaitNoLag(ServiceCluster.GROUP, WAIT);
            log.drain(Duration.ofSeconds(1));
            assertEquals(List.of(), log.matching(on(RESULTS, "dl/refused")), "the broker took no result");

            // The topic takes results again: the next event is consumed and answered.
            maxMessageBytes(admin, null);
            log.sendBinary("dl/after", "registered-dl-after", Fixtures.registered("dl/after", after, "x86-vnni")
                    .toString());
            log.await(on(RESULTS, "dl/after"), 1, WAIT);
            log.awaitNoLag(ServiceCluster.GROUP, WAIT);
            assertEquals(List.of(), received(deadLetters, Duration.ofSeconds(2)).stream().map(ConsumerRecord::key)
                    .toList(), "no dead letter besides the refused event's");
        }
    }

    /** Sets the results topic's largest record, or back to the broker's default with {@code null}. */
    private static void maxMessageBytes(Admin admin, String bytes) throws Exception {
        ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, RESULTS);
        AlterConfigOp op = bytes == null
                ? new AlterConfigOp(new ConfigEntry(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, ""), AlterConfigOp.OpType.DELETE)
                : new AlterConfigOp(new ConfigEntry(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, bytes), AlterConfigOp.OpType.SET);
        admin.incrementalAlterConfigs(Map.of(topic, List.of(op))).all().get(30, TimeUnit.SECONDS);
    }

    private static KafkaConsumer<String, byte[]> deadLetters() {
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, Fixtures.bootstrapServers());
        config.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config);
        consumer.subscribe(List.of(DEAD_LETTERS));
        return consumer;
    }

    private static ConsumerRecord<String, byte[]> awaitDeadLetter(KafkaConsumer<String, byte[]> consumer, String key) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            seen.addAll(received(consumer, Duration.ofMillis(500)));
            for (ConsumerRecord<String, byte[]> record : seen) {
                if (key.equals(record.key())) {
                    assertEquals(1, seen.size(), () -> "only the refused event is a dead letter: " + seen);
                    return record;
                }
            }
        }
        throw new AssertionError("no dead letter for " + key + " within " + WAIT + " on " + DEAD_LETTERS);
    }

    private static List<ConsumerRecord<String, byte[]>> received(KafkaConsumer<String, byte[]> consumer, Duration wait) {
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        consumer.poll(wait).forEach(records::add);
        return records;
    }

    private static List<String> headers(ConsumerRecord<String, byte[]> record, String name) {
        List<String> values = new ArrayList<>();
        for (Header header : record.headers().headers(name)) {
            values.add(new String(header.value(), StandardCharsets.UTF_8));
        }
        return values;
    }
}

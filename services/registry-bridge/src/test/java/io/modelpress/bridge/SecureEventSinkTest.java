package io.modelpress.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.modelpress.bridge.registry.KafkaEventSink;
import io.modelpress.bridge.registry.RegistryException;
import io.modelpress.localstack.LocalStack;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bridge's producer with the shared Kafka settings of a SASL_SSL deployment (SCRAM-SHA-512, a private CA). */
class SecureEventSinkTest {

    private static final String TOPIC = "modelpress.model-registered";

    @TempDir
    Path temp;

    @Test
    void modelRegisteredGoesOutOverSaslSslAndARefusedLoginIsNamed() throws Exception {
        try (LocalStack stack = LocalStack.builder().workFolder(temp.resolve("stack")).s3(false).tls(true).start()) {
            Map<String, Object> settings = stack.kafkaClientSettings();
            try (KafkaEventSink sink = new KafkaEventSink(settings, TOPIC, "/test/registry", Duration.ofSeconds(20))) {
                sink.publish("team/model", "event-1", new ObjectMapper().createObjectNode().put("modelId", "team/model"));
            }
            ConsumerRecord<String, String> record = readOne(settings);
            assertEquals("team/model", record.key());
            assertEquals("event-1", new String(record.headers().lastHeader("ce_id").value(), StandardCharsets.UTF_8));
            assertTrue(record.value().contains("\"modelId\":\"team/model\""), record.value());

            Map<String, Object> wrong = new HashMap<>(settings);
            wrong.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                    + stack.kafkaUser() + "\" password=\"not-the-password\";");
            try (KafkaEventSink refused = new KafkaEventSink(wrong, TOPIC, "/test/registry", Duration.ofSeconds(10))) {
                RegistryException error = assertThrows(RegistryException.class,
                        () -> refused.publish("team/model", "event-2", new ObjectMapper().createObjectNode()));
                assertTrue(error.getMessage().startsWith("Kafka did not take the event for team/model: "), error.getMessage());
                assertTrue(error.getMessage().contains("Authentication failed"), error.getMessage());
            }
        }
    }

    private static ConsumerRecord<String, String> readOne(Map<String, Object> settings) {
        Map<String, Object> consumer = new HashMap<>(settings);
        consumer.put(ConsumerConfig.GROUP_ID_CONFIG, "secure-sink-test");
        consumer.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, String> reader = new KafkaConsumer<>(consumer, new StringDeserializer(),
                new StringDeserializer())) {
            reader.subscribe(List.of(TOPIC));
            List<ConsumerRecord<String, String>> records = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (records.isEmpty() && System.nanoTime() < deadline) {
                reader.poll(Duration.ofMillis(500)).forEach(records::add);
            }
            assertEquals(1, records.size(), "records on " + TOPIC);
            return records.get(0);
        }
    }
}

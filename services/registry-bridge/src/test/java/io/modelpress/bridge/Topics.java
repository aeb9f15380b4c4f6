package io.modelpress.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelpress.bridge.registry.Json;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Reads whole topics and publishes test events on the real broker. */
final class Topics {

    static final String REGISTERED = "modelpress.model-registered";
    static final String RESULTS = "modelpress.compression-results";
    static final String FAILURES = "modelpress.failures";

    /** One record: key, ce_* headers, data. */
    record Event(String key, Map<String, String> headers, JsonNode data) {
    }

    private Topics() {
    }

    /** Every record now in the topic, from the beginning. */
    static List<Event> read(String topic) {
        Properties properties = new Properties();
        properties.put("bootstrap.servers", BridgeTestResource.stack.bootstrapServers());
        List<Event> events = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(properties, new StringDeserializer(),
                new StringDeserializer())) {
            List<PartitionInfo> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10));
            if (partitions == null || partitions.isEmpty()) {
                return events;
            }
            List<TopicPartition> assigned = partitions.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(assigned);
            consumer.seekToBeginning(assigned);
            Map<TopicPartition, Long> end = consumer.endOffsets(assigned);
            while (assigned.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    Map<String, String> headers = new HashMap<>();
                    for (Header header : record.headers()) {
                        headers.put(header.key(), new String(header.value(), StandardCharsets.UTF_8));
                    }
                    events.add(new Event(record.key(), headers, parse(record.value())));
                }
            }
        }
        return events;
    }

    static List<Event> read(String topic, String key) {
        return read(topic).stream().filter(e -> key.equals(e.key())).toList();
    }

    static void publish(String topic, String key, JsonNode data) throws Exception {
        Properties properties = new Properties();
        properties.put("bootstrap.servers", BridgeTestResource.stack.bootstrapServers());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(properties, new StringSerializer(),
                new StringSerializer())) {
            ProducerRecord<String, String> record = new ProducerRecord<>(topic, key, Json.write(data));
            record.headers().add("ce_specversion", "1.0".getBytes(StandardCharsets.UTF_8));
            record.headers().add("ce_id", java.util.UUID.randomUUID().toString().getBytes(StandardCharsets.UTF_8));
            producer.send(record).get();
        }
    }

    private static JsonNode parse(String value) {
        try {
            return Json.mapper().readTree(value);
        } catch (Exception e) {
            return Json.object().put("unparsed", value);
        }
    }
}

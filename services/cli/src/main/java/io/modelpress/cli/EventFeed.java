package io.modelpress.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * What a dashboard sees: the compressor's output topics, read from their beginning by a consumer
 * group of its own, so nothing published before it subscribed is missed.
 */
final class EventFeed implements AutoCloseable {

    static final String RESULTS = "modelpress.compression-results";
    static final String BENCHMARKS = "modelpress.benchmarks";
    static final String PROGRESS = "modelpress.progress";
    static final String FAILURES = "modelpress.failures";

    /**
     * One event off an output topic.
     *
     * @param data the event's JSON data; a text node when the value is not JSON
     */
    record OutputEvent(String topic, String key, String type, JsonNode data, long receivedNanos) {
    }

    private final KafkaConsumer<String, String> consumer;
    private final ObjectMapper json = new ObjectMapper();

    EventFeed(String bootstrapServers) {
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, "modelpress-demo-" + UUID.randomUUID());
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        // Topics appear when the service first publishes to them: look for them often.
        config.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, "1000");
        consumer = new KafkaConsumer<>(config);
        consumer.subscribe(List.of(PROGRESS, RESULTS, BENCHMARKS, FAILURES));
    }

    /** The events that arrived within {@code wait}, in the order of each topic. */
    List<OutputEvent> poll(Duration wait) {
        List<OutputEvent> events = new ArrayList<>();
        for (ConsumerRecord<String, String> record : consumer.poll(wait)) {
            events.add(new OutputEvent(record.topic(), record.key(), header(record, "ce_type"), parse(record.value()),
                    System.nanoTime()));
        }
        return events;
    }

    private JsonNode parse(String value) {
        try {
            return json.readTree(value == null ? "null" : value);
        } catch (JsonProcessingException e) {
            return TextNode.valueOf(value);
        }
    }

    private static String header(ConsumerRecord<String, String> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null || header.value() == null ? "" : new String(header.value(), StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(2));
    }
}

package io.modelpress.compressor;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.HashMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * What a dashboard sees: every event on the service's output topics, read by a plain Kafka
 * consumer from the beginning; and what a registry does: send model-registered events.
 */
final class EventLog implements AutoCloseable {

    static final String IN = "modelpress.model-registered";
    static final String RESULTS = "modelpress.compression-results";
    static final String BENCHMARKS = "modelpress.benchmarks";
    static final String PROGRESS = "modelpress.progress";
    static final String FAILURES = "modelpress.failures";

    /** One received event. */
    record Event(String topic, String key, Map<String, String> headers, JsonNode data, long offset, long timestamp) {
        String header(String name) {
            return headers.get(name);
        }
    }

    private final KafkaConsumer<String, byte[]> consumer;
    private final KafkaProducer<String, byte[]> producer;
    private final List<Event> events = new ArrayList<>();
    /** Where and how to connect: bootstrap servers and any security settings. */
    private final Map<String, Object> client;

    EventLog(String bootstrapServers) {
        this(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
    }

    /** With the Kafka client settings of a secured broker (bootstrap servers, security protocol, SASL, trust). */
    EventLog(Map<String, Object> client) {
        this.client = Map.copyOf(client);
        Properties consumerConfig = new Properties();
        consumerConfig.putAll(client);
        consumerConfig.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        consumerConfig.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumerConfig.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        consumerConfig.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        consumerConfig.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, "500");
        consumer = new KafkaConsumer<>(consumerConfig);
        consumer.subscribe(List.of(RESULTS, BENCHMARKS, PROGRESS, FAILURES));
        Properties producerConfig = new Properties();
        producerConfig.putAll(client);
        producerConfig.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        producerConfig.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        producer = new KafkaProducer<>(producerConfig);
    }

    /** Sends a binary-mode CloudEvent: ce_* headers, the data as the value. */
    void sendBinary(String key, String eventId, String data) {
        send(key, Map.of("ce_specversion", "1.0", "ce_id", eventId, "ce_type", "io.modelpress.model.registered",
                "ce_source", "/test/registry", "content-type", "application/json"), data.getBytes(StandardCharsets.UTF_8));
    }

    void send(String key, Map<String, String> headers, byte[] value) {
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(IN, key, value);
        headers.forEach((name, text) -> record.headers().add(name, text.getBytes(StandardCharsets.UTF_8)));
        try {
            producer.send(record).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot send to " + IN + ": " + e, e);
        }
    }

    /**
     * Sends a record larger than a producer's default max.request.size (1 MiB), compressed so that
     * the broker takes it: as a registry with a raised limit would.
     */
    void sendLarge(String key, Map<String, String> headers, byte[] value) {
        Properties config = new Properties();
        config.putAll(client);
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(16 << 20));
        config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "gzip");
        try (KafkaProducer<String, byte[]> large = new KafkaProducer<>(config)) {
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(IN, key, value);
            headers.forEach((name, text) -> record.headers().add(name, text.getBytes(StandardCharsets.UTF_8)));
            large.send(record).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot send to " + IN + ": " + e, e);
        }
    }

    /** Waits until the group has committed every record of the input topic (lag 0 on each partition). */
    /** The offsets the group has committed, on any topic. */
    Map<TopicPartition, OffsetAndMetadata> committed(String group) {
        Properties config = new Properties();
        config.putAll(client);
        try (Admin admin = Admin.create(config)) {
            return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new AssertionError("cannot read the offsets of " + group + ": " + e, e);
        }
    }

    void awaitNoLag(String group, Duration timeout) {
        Properties config = new Properties();
        config.putAll(client);
        try (Admin admin = Admin.create(config)) {
            long deadline = System.nanoTime() + timeout.toNanos();
            Map<TopicPartition, Long> lag = Map.of();
            while (System.nanoTime() < deadline) {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
                Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
                for (TopicPartition partition : admin.describeTopics(List.of(IN)).allTopicNames().get(10, TimeUnit.SECONDS)
                        .get(IN).partitions().stream().map(info -> new TopicPartition(IN, info.partition())).toList()) {
                    latest.put(partition, OffsetSpec.latest());
                }
                Map<TopicPartition, Long> now = new HashMap<>();
                admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS).forEach((partition, end) -> {
                    OffsetAndMetadata done = committed.get(partition);
                    now.put(partition, end.offset() - (done == null ? 0 : done.offset()));
                });
                lag = now;
                if (now.values().stream().allMatch(value -> value == 0)) {
                    return;
                }
                Thread.sleep(500);
            }
            throw new AssertionError("group " + group + " still lags on " + IN + ": " + lag);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new AssertionError("cannot read the group's offsets: " + e, e);
        }
    }

    /** Waits until at least {@code count} events match, then returns all that match. */
    List<Event> await(Predicate<Event> match, int count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<Event> found = matching(match);
            if (found.size() >= count) {
                return found;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("expected " + count + " matching events within " + timeout + ", found "
                        + found.size() + ": " + found + "; all events: " + summary());
            }
            poll(Duration.ofMillis(200));
        }
    }

    /** Reads for a while longer, so that events that should not come have had their chance. */
    void drain(Duration time) {
        long deadline = System.nanoTime() + time.toNanos();
        while (System.nanoTime() < deadline) {
            poll(Duration.ofMillis(200));
        }
    }

    List<Event> matching(Predicate<Event> match) {
        return events.stream().filter(match).toList();
    }

    static Predicate<Event> on(String topic, String key) {
        return event -> event.topic().equals(topic) && key.equals(event.key());
    }

    private void poll(Duration time) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(time)) {
            Map<String, String> headers = new LinkedHashMap<>();
            for (Header header : record.headers()) {
                headers.put(header.key(), new String(header.value(), StandardCharsets.UTF_8));
            }
            JsonNode data;
            try {
                data = EventJson.mapper().readTree(record.value());
            } catch (java.io.IOException e) {
                throw new AssertionError("an output event on " + record.topic() + " is not JSON: "
                        + new String(record.value(), StandardCharsets.UTF_8));
            }
            events.add(new Event(record.topic(), record.key(), headers, data, record.offset(), record.timestamp()));
        }
    }

    private String summary() {
        return events.stream().map(event -> event.topic().replace("modelpress.", "") + "/" + event.key()
                + (event.topic().equals(FAILURES) ? "(" + event.data().path("reason").asText() + ")" : "")).toList()
                .toString();
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
        producer.close(Duration.ofSeconds(5));
    }
}

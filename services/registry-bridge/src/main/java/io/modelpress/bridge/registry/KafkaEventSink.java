package io.modelpress.bridge.registry;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelpress.common.EventSchemas;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Publishes model-registered as a CloudEvent 1.0 in binary mode, as the compressor reads it: the
 * attributes in {@code ce_*} headers, the JSON data as the value, the model id as the key.
 */
public final class KafkaEventSink implements EventSink {

    public static final String TYPE = "io.modelpress.model.registered";

    private final KafkaProducer<String, String> producer;
    private final String topic;
    private final String source;
    private final Duration timeout;

    public KafkaEventSink(String bootstrapServers, String topic, String source, Duration timeout) {
        this(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, requireNonNull(bootstrapServers, "bootstrapServers is null")),
                topic, source, timeout);
    }

    /**
     * With the service's shared Kafka client settings (the {@code kafka.*} properties: bootstrap
     * servers and security, e.g. SASL_SSL); those a producer does not know are left out.
     */
    public KafkaEventSink(Map<String, Object> kafka, String topic, String source, Duration timeout) {
        this.topic = requireNonNull(topic, "topic is null");
        this.source = requireNonNull(source, "source is null");
        this.timeout = requireNonNull(timeout, "timeout is null");
        Properties properties = new Properties();
        requireNonNull(kafka, "kafka is null").forEach((key, value) -> {
            if (ProducerConfig.configNames().contains(key)) {
                properties.put(key, value);
            }
        });
        properties.put(ProducerConfig.ACKS_CONFIG, "all");
        properties.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        properties.put(ProducerConfig.CLIENT_ID_CONFIG, "modelpress-registry-bridge");
        properties.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        // the delivery timeout must cover a request and the linger time
        properties.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        properties.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.max(1000, timeout.toMillis() / 2));
        properties.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout.toMillis());
        this.producer = new KafkaProducer<>(properties, new StringSerializer(), new StringSerializer());
    }

    @Override
    public void publish(String key, String id, JsonNode data) {
        ProducerRecord<String, String> record = new ProducerRecord<>(topic, key, Json.write(data));
        header(record, "ce_specversion", "1.0");
        header(record, "ce_id", id);
        header(record, "ce_source", source);
        header(record, "ce_type", TYPE);
        header(record, "ce_time", Instant.now().toString());
        header(record, "ce_dataschema", EventSchemas.uri(EventSchemas.MODEL_REGISTERED));
        header(record, "ce_subject", key);
        header(record, "content-type", "application/json");
        try {
            producer.send(record).get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new RegistryException("Kafka did not take the event for " + key + ": " + cause.getMessage(), true, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException("interrupted while publishing the event for " + key, true, e);
        } catch (RuntimeException e) {
            throw new RegistryException("Kafka did not take the event for " + key + ": " + e.getMessage(), true, e);
        }
    }

    private static void header(ProducerRecord<String, String> record, String name, String value) {
        record.headers().add(name, value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }
}

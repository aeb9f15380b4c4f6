package io.modelpress.compressor;

import io.modelpress.common.EventSchemas;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Publishes CloudEvents 1.0 in binary mode: attributes as {@code ce_*} headers, the JSON data as the
 * record value, the model id as the record key.
 */
@ApplicationScoped
public class EventPublisher {

    private final Map<Topic, MutinyEmitter<String>> emitters;
    private final CompressorConfig config;
    private final CompressorMetrics metrics;

    @Inject
    public EventPublisher(@Channel("compression-results") MutinyEmitter<String> results,
            @Channel("benchmarks") MutinyEmitter<String> benchmarks, @Channel("progress") MutinyEmitter<String> progress,
            @Channel("failures") MutinyEmitter<String> failures, CompressorConfig config, CompressorMetrics metrics) {
        this.emitters = Map.of(Topic.COMPRESSION_RESULTS, results, Topic.BENCHMARKS, benchmarks, Topic.PROGRESS, progress,
                Topic.FAILURES, failures);
        this.config = config;
        this.metrics = metrics;
    }

    /** A new random event id. */
    public static String newId() {
        return UUID.randomUUID().toString();
    }

    /**
     * Sends one event; the future completes when the broker has it (or fails when it cannot).
     *
     * @param key the record key: the model id, or the incoming record's key when the model id is unknown
     * @param id the CloudEvents id: deterministic for results so that a republished result keeps its id
     * @param data the event data, serialised as JSON
     */
    public CompletableFuture<Void> publish(Topic topic, String key, String id, Object data) {
        String json = EventJson.write(data);
        List<RecordHeader> headers = new ArrayList<>();
        header(headers, "ce_specversion", "1.0");
        header(headers, "ce_id", id);
        header(headers, "ce_source", config.eventSource());
        header(headers, "ce_type", topic.eventType());
        header(headers, "ce_time", Instant.now().toString());
        header(headers, "ce_dataschema", EventSchemas.uri(topic.schema()));
        if (key != null) {
            header(headers, "ce_subject", key);
        }
        header(headers, "content-type", "application/json");
        OutgoingKafkaRecordMetadata<String> metadata = OutgoingKafkaRecordMetadata.<String>builder().withKey(key)
                .withHeaders(headers).build();
        CompletableFuture<Void> sent = emitters.get(topic).sendMessage(Message.of(json).addMetadata(metadata))
                .subscribeAsCompletionStage();
        return sent.whenComplete((ignored, error) -> {
            if (error == null) {
                metrics.published(topic);
            }
        });
    }

    private static void header(List<RecordHeader> headers, String name, String value) {
        headers.add(new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8)));
    }
}

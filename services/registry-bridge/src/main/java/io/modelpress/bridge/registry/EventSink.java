package io.modelpress.bridge.registry;

import com.fasterxml.jackson.databind.JsonNode;

/** Where model-registered events go: Kafka in the service. */
public interface EventSink extends AutoCloseable {

    /**
     * Publishes one model-registered event and returns once the broker has it.
     *
     * @param key the record key: the model id
     * @param id the CloudEvents id: the same for the same delivery, so a republished event is recognisable
     */
    void publish(String key, String id, JsonNode data);

    @Override
    void close();
}

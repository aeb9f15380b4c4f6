package io.modelpress.compressor;

import io.smallrye.reactive.messaging.ClientCustomizer;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.eclipse.microprofile.config.Config;

/**
 * Gives the connector's delayed-retry consumer a dynamic membership of its own. The connector builds
 * that consumer from the input channel's settings, in the same group: with a static instance id
 * ({@code modelpress.instance-id}) both consumers would join under one id, and the broker fences the
 * older one, which then stops consuming for good. The retry topics need no static membership: a
 * crashed member's retry partitions move after the session timeout like any other.
 */
@ApplicationScoped
public class RetryConsumerMembership implements ClientCustomizer<Map<String, Object>> {

    /** How the connector names the delayed-retry consumer: this prefix and the channel's client id. */
    static final String RETRY_CLIENT_PREFIX = "kafka-delayed-retry-topic-";

    @Override
    public Map<String, Object> customize(String channel, Config channelConfig, Map<String, Object> config) {
        Object clientId = config.get(ConsumerConfig.CLIENT_ID_CONFIG);
        if (clientId == null || !clientId.toString().startsWith(RETRY_CLIENT_PREFIX)
                || !config.containsKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG)) {
            return config;
        }
        Map<String, Object> dynamic = new HashMap<>(config);
        dynamic.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        return dynamic;
    }
}

package io.modelpress.compressor;

import io.smallrye.reactive.messaging.ClientCustomizer;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.eclipse.microprofile.config.Config;

/**
 * Gives the connector's delayed-retry consumer a dynamic membership. The connector builds that consumer
 * from the input channel's settings (in a group of its own, {@code kafka-delayed-retry-topic-} and the
 * input's group), so with {@code modelpress.instance-id} it would be a static member too. A static
 * member does not leave its group when it stops: the retry partitions of a stopped instance would wait
 * out the session timeout, and records in them with it. Keeping partitions for a quick return pays for
 * the input, not for the retry topics.
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

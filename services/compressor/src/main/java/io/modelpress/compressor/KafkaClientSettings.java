package io.modelpress.compressor;

import io.quarkus.kafka.client.runtime.KafkaRuntimeConfigProducer;
import io.quarkus.runtime.ApplicationConfig;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.HashMap;
import java.util.Map;
import org.eclipse.microprofile.config.Config;

/**
 * The settings every Kafka client of the service shares (the connector's channels and the topic
 * setup's admin client): the {@code kafka.*} properties, as Quarkus gathers them, plus the security
 * of {@code modelpress.kafka.*} ({@link KafkaSecurity}). Replaces Quarkus' default bean of the same
 * name, so that security is set in one place, from environment variables, and checked at start.
 */
@Singleton
public class KafkaClientSettings {

    @Produces
    @Singleton
    @Identifier("default-kafka-broker")
    Map<String, Object> kafkaSettings(Config config, ApplicationConfig application, CompressorConfig compressor) {
        Map<String, Object> settings = new HashMap<>(new KafkaRuntimeConfigProducer()
                .createKafkaRuntimeConfig(config, application));
        settings.putAll(KafkaSecurity.of(compressor.kafka()).clientSettings());
        return settings;
    }
}

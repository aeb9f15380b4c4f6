package io.modelpress.compressor;

import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaConsumerRebalanceListener;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Collection;
import java.util.Objects;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Told by the consumer when partitions come to or leave this instance (application.properties names it
 * on the channel): the jobs of partitions that leave stop here, and records of them that the connector
 * still hands on are left alone, so that only the new owner works on their records.
 */
@ApplicationScoped
@Identifier(HandOver.NAME)
public class HandOver implements KafkaConsumerRebalanceListener {

    static final String NAME = "modelpress-hand-over";

    private final ModelRegisteredConsumer consumer;

    @Inject
    public HandOver(ModelRegisteredConsumer consumer) {
        this.consumer = Objects.requireNonNull(consumer, "consumer is null");
    }

    @Override
    public void onPartitionsAssigned(Consumer<?, ?> kafka, Collection<TopicPartition> partitions) {
        consumer.partitionsAssigned(partitions);
    }

    @Override
    public void onPartitionsRevoked(Consumer<?, ?> kafka, Collection<TopicPartition> partitions) {
        consumer.partitionsRevoked(partitions);
    }

    @Override
    public void onPartitionsLost(Consumer<?, ?> kafka, Collection<TopicPartition> partitions) {
        consumer.partitionsRevoked(partitions);
    }
}

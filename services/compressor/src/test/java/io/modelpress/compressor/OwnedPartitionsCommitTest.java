package io.modelpress.compressor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.kafka.IncomingKafkaRecord;
import io.smallrye.reactive.messaging.kafka.commit.KafkaCommitHandler;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class OwnedPartitionsCommitTest {

    private static final String TOPIC = "modelpress.model-registered";

    /** Stands for the throttled strategy: what it was shown, in order. */
    private static final class Recording implements KafkaCommitHandler {
        final List<String> calls = new ArrayList<>();

        @Override
        public <K, V> Uni<IncomingKafkaRecord<K, V>> received(IncomingKafkaRecord<K, V> record) {
            calls.add("received " + record.getPartition() + "@" + record.getOffset());
            return Uni.createFrom().item(record);
        }

        @Override
        public <K, V> Uni<Void> handle(IncomingKafkaRecord<K, V> record) {
            calls.add("handle " + record.getPartition() + "@" + record.getOffset());
            return Uni.createFrom().voidItem();
        }

        @Override
        public void partitionsAssigned(java.util.Collection<TopicPartition> partitions) {
            calls.add("assigned " + partitions);
        }

        @Override
        public void partitionsRevoked(java.util.Collection<TopicPartition> partitions) {
            calls.add("revoked " + partitions);
        }
    }

    private final Recording throttled = new Recording();
    private final OwnedPartitionsCommit commit = new OwnedPartitionsCommit(null, 1000, throttled);

    @Test
    void recordsOfHeldPartitionsReachTheThrottledStrategy() {
        commit.partitionsAssigned(List.of(partition(0), partition(1)));
        IncomingKafkaRecord<String, byte[]> record = record(1, 7);

        assertSame(record, commit.received(record).await().indefinitely());
        commit.handle(record).await().indefinitely();

        assertEquals(List.of("assigned [" + TOPIC + "-0, " + TOPIC + "-1]", "received 1@7", "handle 1@7"),
                throttled.calls);
    }

    @Test
    void aRecordHandedOnAfterItsPartitionMovedIsDroppedBeforeTheStrategyOpensAStoreForIt() {
        commit.partitionsAssigned(List.of(partition(0), partition(1)));
        commit.partitionsRevoked(List.of(partition(1)));

        assertNull(commit.received(record(1, 8)).await().indefinitely(), "a stale record is left out of the stream");
        assertEquals(List.of(), throttled.calls.stream().filter(call -> call.startsWith("received")).toList());
    }

    @Test
    void aPartitionThatComesBackIsHeldAgain() {
        commit.partitionsAssigned(List.of(partition(2)));
        commit.partitionsRevoked(List.of(partition(2)));
        assertNull(commit.received(record(2, 3)).await().indefinitely());

        commit.partitionsAssigned(List.of(partition(2)));
        IncomingKafkaRecord<String, byte[]> again = record(2, 3);

        assertSame(again, commit.received(again).await().indefinitely());
        assertEquals(List.of("received 2@3"),
                throttled.calls.stream().filter(call -> call.startsWith("received")).toList());
    }

    @Test
    void nothingIsHeldBeforeTheFirstAssignment() {
        assertNull(commit.received(record(0, 0)).await().indefinitely());
        assertEquals(List.of(), throttled.calls);
    }

    private static TopicPartition partition(int number) {
        return new TopicPartition(TOPIC, number);
    }

    private IncomingKafkaRecord<String, byte[]> record(int partition, long offset) {
        ConsumerRecord<String, byte[]> record = new ConsumerRecord<>(TOPIC, partition, offset, "key", new byte[0]);
        return new IncomingKafkaRecord<>(record, "model-registered", 0, commit, null, false);
    }
}

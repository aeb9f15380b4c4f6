package io.modelpress.compressor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.kafka.IncomingKafkaRecord;
import io.smallrye.reactive.messaging.kafka.commit.KafkaCommitHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
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
    private final CommitRepair repair = new CommitRepair();
    private final OwnedPartitionsCommit commit = new OwnedPartitionsCommit(null, 1000, throttled, repair, () -> { });

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

    @Test
    void aPartitionIsSettledOnceEveryRecordReceivedOfItIsDoneAndItsPositionFollowsTheLast() {
        commit.partitionsAssigned(List.of(partition(0), partition(1)));
        for (long offset = 4; offset <= 6; offset++) {
            commit.received(record(0, offset)).await().indefinitely();
        }
        commit.handle(record(0, 4)).await().indefinitely();
        commit.handle(record(0, 6)).await().indefinitely();
        assertEquals(Map.of(), repair.settled(Set.of(partition(0), partition(1))), "offset 5 is still running");

        commit.handle(record(0, 5)).await().indefinitely();
        assertEquals(Map.of(partition(0), 7L), repair.settled(Set.of(partition(0), partition(1))));
        assertEquals(Map.of(), repair.settled(Set.of(partition(1))), "nothing received of partition 1");

        commit.partitionsRevoked(List.of(partition(0)));
        assertEquals(Map.of(), repair.settled(Set.of(partition(0))), "what was done here is no longer ours to commit");
    }

    @Test
    void aSettledPositionIsAheadOfACommittedOffsetBehindItOrOfNone() {
        Map<TopicPartition, Long> settled = Map.of(partition(0), 7L, partition(1), 3L, partition(2), 5L);
        Map<TopicPartition, OffsetAndMetadata> committed = Map.of(partition(0), new OffsetAndMetadata(4),
                partition(1), new OffsetAndMetadata(3));
        assertEquals(Map.of(partition(0), 7L, partition(2), 5L), CommitRepair.ahead(settled, committed));
    }

    private static TopicPartition partition(int number) {
        return new TopicPartition(TOPIC, number);
    }

    private IncomingKafkaRecord<String, byte[]> record(int partition, long offset) {
        ConsumerRecord<String, byte[]> record = new ConsumerRecord<>(TOPIC, partition, offset, "key", new byte[0]);
        return new IncomingKafkaRecord<>(record, "model-registered", 0, commit, null, false);
    }
}

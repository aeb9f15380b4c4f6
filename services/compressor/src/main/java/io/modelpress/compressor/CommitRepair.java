package io.modelpress.compressor;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * Puts a partition's committed offset back where this instance's work has reached when the broker
 * shows it behind. The throttled strategy commits only when its position moves, so a commit that
 * lands behind it (a former owner's late commit, or one the broker lost with its leader) would
 * otherwise stay until the next record: the group's lag stays above zero, an autoscaler sees work
 * that is done, and an idle instance never exits.
 *
 * <p>A partition is settled when every record this instance received of it since it was assigned
 * here has been acknowledged; its position is then the last of them plus one. Records are received
 * in offset order from the committed offset, so everything below that position is done. A position
 * found ahead of the broker's committed offset twice in a row, the throttled strategy having had a
 * whole period to commit it, is committed again, on the consumer's own polling thread, where no
 * rebalance can move the partition meanwhile.
 */
final class CommitRepair {

    private static final Logger LOG = Logger.getLogger(CommitRepair.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    /** Per partition held here: offsets received and not acknowledged yet, and the last one acknowledged. */
    private static final class Progress {
        private final Set<Long> pending = new HashSet<>();
        private long lastDone = -1;

        synchronized void received(long offset) {
            pending.add(offset);
        }

        synchronized void done(long offset) {
            pending.remove(offset);
            lastDone = Math.max(lastDone, offset);
        }

        /** The offset to commit when nothing received is pending; -1 otherwise. */
        synchronized long settledPosition() {
            return pending.isEmpty() && lastDone >= 0 ? lastDone + 1 : -1;
        }
    }

    private final Map<TopicPartition, Progress> progress = new ConcurrentHashMap<>();
    /** Positions found ahead of the broker at the previous check. */
    private Map<TopicPartition, Long> aheadBefore = Map.of();

    void received(TopicPartition partition, long offset) {
        progress.computeIfAbsent(partition, ignored -> new Progress()).received(offset);
    }

    void done(TopicPartition partition, long offset) {
        Progress of = progress.get(partition);
        if (of != null) {
            of.done(offset);
        }
    }

    /** The partitions left this instance: what it did of them is no longer its to commit. */
    void forget(Iterable<TopicPartition> partitions) {
        partitions.forEach(progress::remove);
    }

    /** Runs on the consumer's polling thread. */
    synchronized void check(Consumer<?, ?> consumer) {
        Map<TopicPartition, Long> settled = settled(consumer.assignment());
        if (settled.isEmpty()) {
            aheadBefore = Map.of();
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(settled.keySet(), TIMEOUT);
        Map<TopicPartition, Long> ahead = ahead(settled, committed);
        Map<TopicPartition, OffsetAndMetadata> repair = new HashMap<>();
        ahead.forEach((partition, position) -> {
            if (position.equals(aheadBefore.get(partition))) {
                repair.put(partition, new OffsetAndMetadata(position));
            }
        });
        aheadBefore = ahead;
        if (!repair.isEmpty()) {
            repair.forEach((partition, offset) -> LOG.warnf("%s: the committed offset %s is behind the records done here;"
                    + " committing %d again", partition, describe(committed.get(partition)), offset.offset()));
            consumer.commitSync(repair, TIMEOUT);
        }
    }

    /** Settled positions of the partitions assigned now. */
    Map<TopicPartition, Long> settled(Set<TopicPartition> assigned) {
        Map<TopicPartition, Long> settled = new HashMap<>();
        for (TopicPartition partition : assigned) {
            Progress of = progress.get(partition);
            long position = of == null ? -1 : of.settledPosition();
            if (position >= 0) {
                settled.put(partition, position);
            }
        }
        return settled;
    }

    /** The settled positions the broker's committed offsets are behind (or without a committed offset at all). */
    static Map<TopicPartition, Long> ahead(Map<TopicPartition, Long> settled, Map<TopicPartition, OffsetAndMetadata> committed) {
        Map<TopicPartition, Long> ahead = new HashMap<>();
        settled.forEach((partition, position) -> {
            OffsetAndMetadata offset = committed.get(partition);
            if (offset == null || offset.offset() < position) {
                ahead.put(partition, position);
            }
        });
        return ahead;
    }

    private static String describe(OffsetAndMetadata offset) {
        return offset == null ? "(none)" : Long.toString(offset.offset());
    }
}

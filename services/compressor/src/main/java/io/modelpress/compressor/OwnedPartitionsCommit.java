package io.modelpress.compressor;

import io.smallrye.common.annotation.Identifier;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.kafka.IncomingKafkaRecord;
import io.smallrye.reactive.messaging.kafka.KafkaConnectorIncomingConfiguration;
import io.smallrye.reactive.messaging.kafka.KafkaConsumer;
import io.smallrye.reactive.messaging.kafka.commit.ContextHolder;
import io.smallrye.reactive.messaging.kafka.commit.KafkaCommitHandler;
import io.smallrye.reactive.messaging.kafka.commit.KafkaThrottledLatestProcessedCommit;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Collection;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * The connector's throttled commit strategy (commit up to the last record acknowledged in sequence),
 * shown only records of partitions this instance holds.
 *
 * <p>The connector hands on records it fetched before their partition moved away. The throttled
 * strategy then opens an offset store for that partition again, starting at the offset committed at
 * that moment, and holds the stale record in it as unacknowledged. When the partition comes back to
 * this instance before the store is cleaned up, the new owner has moved the offset on meanwhile, the
 * stale record is never fetched or acknowledged again, and every later commit of that partition waits
 * for it: the group's lag stays above zero for good. Dropping such records before the strategy sees
 * them keeps its stores to partitions held; the new owner processes them.
 *
 * <p>Alongside, a {@link CommitRepair} commits again a position the broker shows behind the work done
 * here, every two commit intervals.
 */
public final class OwnedPartitionsCommit extends ContextHolder implements KafkaCommitHandler {

    /** The {@code commit-strategy} name that selects it. */
    static final String STRATEGY = "modelpress-owned-partitions";

    private static final Logger LOG = Logger.getLogger(OwnedPartitionsCommit.class);

    private final KafkaCommitHandler throttled;
    private final CommitRepair repair;
    private final Runnable stopRepairs;
    private final Set<TopicPartition> owned = ConcurrentHashMap.newKeySet();

    OwnedPartitionsCommit(Vertx vertx, int timeoutMillis, KafkaCommitHandler throttled, CommitRepair repair,
            Runnable stopRepairs) {
        super(vertx, timeoutMillis);
        this.throttled = Objects.requireNonNull(throttled, "throttled is null");
        this.repair = Objects.requireNonNull(repair, "repair is null");
        this.stopRepairs = Objects.requireNonNull(stopRepairs, "stopRepairs is null");
    }

    /** Found by the connector through its {@link Identifier}. */
    @ApplicationScoped
    @Identifier(STRATEGY)
    public static class Factory implements KafkaCommitHandler.Factory {

        @Override
        public KafkaCommitHandler create(KafkaConnectorIncomingConfiguration config, Vertx vertx,
                KafkaConsumer<?, ?> consumer, BiConsumer<Throwable, Boolean> reportFailure) {
            int timeout = config.config().getOptionalValue(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Integer.class)
                    .orElse(60_000);
            KafkaCommitHandler throttled = new KafkaThrottledLatestProcessedCommit.Factory()
                    .create(config, vertx, consumer, reportFailure);
            CommitRepair repair = new CommitRepair();
            long period = 2L * config.config().getOptionalValue(ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG, Integer.class)
                    .orElse(5_000);
            ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(task -> {
                Thread thread = new Thread(task, "kafka-commit-repair");
                thread.setDaemon(true);
                return thread;
            });
            timer.scheduleWithFixedDelay(() -> consumer.runOnPollingThread(repair::check).subscribe().with(
                    done -> { }, error -> LOG.debugf("commit check: %s", error)), period, period, TimeUnit.MILLISECONDS);
            return new OwnedPartitionsCommit(vertx, timeout, throttled, repair, timer::shutdownNow);
        }
    }

    /** The throttled strategy runs its stores on the connector's event loop, as it would alone. */
    @Override
    public void capture(io.vertx.core.Context context) {
        super.capture(context);
        if (throttled instanceof ContextHolder holder) {
            holder.capture(context);
        }
    }

    @Override
    public void capture(io.vertx.mutiny.core.Context context) {
        super.capture(context);
        if (throttled instanceof ContextHolder holder) {
            holder.capture(context);
        }
    }

    @Override
    public <K, V> Multi<IncomingKafkaRecord<K, V>> decorateStream(Multi<IncomingKafkaRecord<K, V>> consumed) {
        return throttled.decorateStream(consumed);
    }

    /** A record of a partition not held here is dropped: a null item is left out of the stream. */
    @Override
    public <K, V> Uni<IncomingKafkaRecord<K, V>> received(IncomingKafkaRecord<K, V> record) {
        TopicPartition partition = new TopicPartition(record.getTopic(), record.getPartition());
        if (!owned.contains(partition)) {
            LOG.infof("record %s-%d@%d: its partition is no longer assigned here; left to its new owner",
                    record.getTopic(), record.getPartition(), record.getOffset());
            return Uni.createFrom().nullItem();
        }
        repair.received(partition, record.getOffset());
        return throttled.received(record);
    }

    @Override
    public void partitionsAssigned(Collection<TopicPartition> partitions) {
        owned.addAll(partitions);
        throttled.partitionsAssigned(partitions);
    }

    @Override
    public void partitionsRevoked(Collection<TopicPartition> partitions) {
        owned.removeAll(partitions);
        repair.forget(partitions);
        throttled.partitionsRevoked(partitions);
    }

    @Override
    public <K, V> Uni<Void> handle(IncomingKafkaRecord<K, V> record) {
        repair.done(new TopicPartition(record.getTopic(), record.getPartition()), record.getOffset());
        return throttled.handle(record);
    }

    @Override
    public void terminate(boolean graceful) {
        stopRepairs.run();
        throttled.terminate(graceful);
    }
}

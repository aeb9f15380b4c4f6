package io.modelpress.compressor;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import io.smallrye.reactive.messaging.kafka.KafkaConsumer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * {@code modelpress.exit-when-idle}: stops the service as SIGTERM does once it has had nothing to do
 * for that long, so that a Job's pod (one per waiting model, a KEDA ScaledJob) ends with exit code 0
 * when the records it took are done instead of at its deadline.
 *
 * <p>Quiet is not enough: a record can sit on the topic while the connector's fetch is paused behind
 * a running model. So the instance also asks, on the input consumer's own polling thread (a Kafka
 * consumer is single-threaded), whether the group has committed every partition assigned here up
 * to its end; nothing may have arrived while it asked. A record sent to a retry topic is work to
 * come: the connector reads the retry topics back in a group of its own ({@link #RETRY_GROUP_PREFIX}
 * and the input's group), so an admin client asks whether that group has committed every record of
 * them. That holds the instance while any instance's redelivery waits, and no longer.
 */
@ApplicationScoped
public class IdleExit {

    private static final Logger LOG = Logger.getLogger(IdleExit.class);
    private static final String CHANNEL = "model-registered";
    /** How the connector names the group of its delayed-retry consumer: this prefix and the input's group. */
    static final String RETRY_GROUP_PREFIX = "kafka-delayed-retry-topic-";
    /** Longest the broker may take to answer the offsets of one check; an unanswered check is not idle. */
    private static final Duration OFFSETS_TIMEOUT = Duration.ofSeconds(10);

    private final CompressorConfig config;
    private final ModelRegisteredConsumer consumer;
    private final ShutdownSignals signals;
    private final KafkaClientService kafka;
    private final Map<String, Object> kafkaSettings;
    private ScheduledExecutorService timer;
    private Admin admin;

    @Inject
    public IdleExit(CompressorConfig config, ModelRegisteredConsumer consumer, ShutdownSignals signals,
            KafkaClientService kafka, @Identifier("default-kafka-broker") Map<String, Object> kafkaSettings) {
        this.config = Objects.requireNonNull(config, "config is null");
        this.consumer = Objects.requireNonNull(consumer, "consumer is null");
        this.signals = Objects.requireNonNull(signals, "signals is null");
        this.kafka = Objects.requireNonNull(kafka, "kafka is null");
        this.kafkaSettings = Objects.requireNonNull(kafkaSettings, "kafkaSettings is null");
    }

    void onStart(@Observes StartupEvent event) {
        if (config.exitWhenIdle().isEmpty()) {
            return;
        }
        Duration idle = config.exitWhenIdle().get();
        if (idle.isNegative() || idle.isZero()) {
            throw new IllegalArgumentException("modelpress.exit-when-idle must be above zero, not " + idle);
        }
        // Often enough to exit soon after the idle time, rarely enough to cost the broker nothing.
        long period = Math.max(100, Math.min(5_000, idle.toMillis() / 4));
        timer = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "compressor-idle-exit");
            thread.setDaemon(true);
            return thread;
        });
        if (!config.faults().retryTopics().isEmpty()) {
            admin = Admin.create(TopicSetup.adminConfig(kafkaSettings, "modelpress-idle-exit"));
        }
        timer.scheduleWithFixedDelay(() -> check(idle), period, period, TimeUnit.MILLISECONDS);
        LOG.infof("exits when idle for %s (modelpress.exit-when-idle)", idle);
    }

    void onStop(@Observes ShutdownEvent event) {
        if (timer != null) {
            timer.shutdownNow();
        }
        if (admin != null) {
            admin.close(Duration.ofSeconds(1));
        }
    }

    private void check(Duration idle) {
        try {
            OptionalLong since = consumer.idleSince();
            if (since.isEmpty() || System.nanoTime() - since.getAsLong() < idle.toNanos()) {
                return;
            }
            long waiting = waitingRecords() + waitingRedeliveries();
            if (waiting > 0 || !since.equals(consumer.idleSince())) {
                return;
            }
            timer.shutdown();
            signals.stop("no record for " + idle + ", none in flight, every record of this instance's partitions"
                    + " committed and no redelivery waiting in the retry topics (modelpress.exit-when-idle)");
        } catch (RuntimeException | ExecutionException | TimeoutException e) {
            // The broker did not answer in time, or the channel is not up: not idle, asked again later.
            LOG.debugf("idle check: %s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Records on the input partitions assigned here that the group has not committed yet. */
    private long waitingRecords() {
        long waiting = 0;
        for (KafkaConsumer<Object, Object> channel : kafka.<Object, Object>getConsumers(CHANNEL)) {
            waiting += channel.runOnPollingThread(IdleExit::uncommitted).await().atMost(OFFSETS_TIMEOUT.multipliedBy(4));
        }
        return waiting;
    }

    /** Records in the retry topics that the connector's retry consumers have not committed yet. */
    private long waitingRedeliveries() throws InterruptedException, ExecutionException, TimeoutException {
        if (admin == null) {
            return 0;
        }
        long timeout = OFFSETS_TIMEOUT.toMillis();
        Map<TopicPartition, OffsetAndMetadata> committed = admin
                .listConsumerGroupOffsets(RETRY_GROUP_PREFIX + config.consumerGroup())
                .partitionsToOffsetAndMetadata().get(timeout, TimeUnit.MILLISECONDS);
        Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
        Map<TopicPartition, OffsetSpec> starts = new HashMap<>();
        admin.describeTopics(config.faults().retryTopics()).allTopicNames().get(timeout, TimeUnit.MILLISECONDS)
                .values().forEach(topic -> topic.partitions().forEach(info -> {
                    TopicPartition partition = new TopicPartition(topic.name(), info.partition());
                    ends.put(partition, OffsetSpec.latest());
                    if (!committed.containsKey(partition)) {
                        starts.put(partition, OffsetSpec.earliest()); // never committed: all it keeps is waiting
                    }
                }));
        Map<TopicPartition, ListOffsetsResultInfo> end = admin.listOffsets(ends).all().get(timeout, TimeUnit.MILLISECONDS);
        Map<TopicPartition, ListOffsetsResultInfo> start = starts.isEmpty() ? Map.of()
                : admin.listOffsets(starts).all().get(timeout, TimeUnit.MILLISECONDS);
        long waiting = 0;
        for (Map.Entry<TopicPartition, ListOffsetsResultInfo> partition : end.entrySet()) {
            OffsetAndMetadata done = committed.get(partition.getKey());
            long from = done != null ? done.offset() : start.get(partition.getKey()).offset();
            waiting += Math.max(0, partition.getValue().offset() - from);
        }
        return waiting;
    }

    private static long uncommitted(Consumer<Object, Object> consumer) {
        Set<TopicPartition> assigned = consumer.assignment();
        if (assigned.isEmpty()) {
            return 0;
        }
        Map<TopicPartition, Long> ends = consumer.endOffsets(assigned, OFFSETS_TIMEOUT);
        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(assigned, OFFSETS_TIMEOUT);
        long waiting = 0;
        for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
            OffsetAndMetadata done = committed.get(end.getKey());
            // Never committed: from where the consumer started (the earliest record kept), not from 0.
            long from = done == null ? consumer.position(end.getKey(), OFFSETS_TIMEOUT) : done.offset();
            waiting += Math.max(0, end.getValue() - from);
        }
        return waiting;
    }
}

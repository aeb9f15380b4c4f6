package io.modelpress.compressor;

import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * Takes model-registered records off Kafka and runs each on a bounded pool of its own, never on the
 * event loop. At most {@code modelpress.max-in-flight} models run at once (the returned stage
 * completes only when a slot is free, which holds the connector back); records of one model run in
 * order. A record is acknowledged only after all its output events are published, so the throttled
 * commit strategy never commits an offset whose outputs could be lost.
 *
 * <p>A partition taken away in a rebalance takes its records with it: the ones still running here are
 * abandoned (not acknowledged, no failure event) and the ones not yet started never start, because the
 * partition's new owner gets them again from the last committed offset. Stopping works the same way:
 * {@link #drain()} stops taking records, lets running ones finish within the shutdown grace and
 * abandons the rest, and only returns when no job is left that could still call into ONNX Runtime.
 */
@ApplicationScoped
public class ModelRegisteredConsumer {

    private static final Logger LOG = Logger.getLogger(ModelRegisteredConsumer.class);
    /** How long an abandoned job may take to reach its next check; long enough for one native call. */
    private static final Duration ABANDON_WAIT = Duration.ofSeconds(30);
    /** How long a rebalance waits for the jobs of the partitions it takes away. */
    private static final Duration REVOKE_WAIT = Duration.ofSeconds(10);

    private final Compressor compressor;
    private final CrashLedger crashes;
    private final CompressorConfig config;
    private final CompressorMetrics metrics;
    private final AsyncSlots slots;
    private final ExecutorService workers;
    private final ScheduledExecutorService timer;
    private final Map<String, CompletableFuture<Void>> lastOfKey = new HashMap<>();
    private final Map<JobControl, TopicPartition> running = new ConcurrentHashMap<>();
    /** Bumped each time a partition is taken away: a record read under an older value is no longer ours. */
    private final Map<TopicPartition, Integer> assignments = new ConcurrentHashMap<>();
    /** The partitions assigned to this instance now, and the topics any of them were ever of. */
    private final Set<TopicPartition> owned = ConcurrentHashMap.newKeySet();
    private final Set<String> assignedTopics = ConcurrentHashMap.newKeySet();
    /** Records received and not yet finished (waiting for a slot, for their key, or running). */
    private final AtomicInteger taken = new AtomicInteger();
    /** When the last record arrived or the last job finished (System.nanoTime). */
    private volatile long lastActivity = System.nanoTime();
    /** Whether the group has given this instance its partitions (none is an answer too). */
    private volatile boolean joined;
    private volatile boolean stopping;
    private boolean drained;

    @Inject
    public ModelRegisteredConsumer(Compressor compressor, CrashLedger crashes, CompressorConfig config,
            CompressorMetrics metrics) {
        this.compressor = compressor;
        this.crashes = crashes;
        this.config = config;
        this.metrics = metrics;
        this.slots = new AsyncSlots(config.maxInFlight());
        AtomicInteger count = new AtomicInteger();
        this.workers = Executors.newFixedThreadPool(config.maxInFlight(), task -> {
            Thread thread = new Thread(task, "compressor-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        this.timer = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "compressor-timeouts");
            thread.setDaemon(true);
            return thread;
        });
    }

    @Incoming("model-registered")
    public CompletionStage<Void> receive(Message<byte[]> message) {
        lastActivity = System.nanoTime();
        IncomingRecord record = toRecord(message);
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        int assignment = assignments.getOrDefault(partition, 0);
        if (!owned(partition)) {
            // Fetched before its partition moved away and handed on by the connector's buffers only now.
            // Its new owner processes it; acknowledging it here could move that owner's offset back.
            LOG.infof("%s: its partition is no longer assigned here; left to its new owner", record);
            return CompletableFuture.completedFuture(null);
        }
        taken.incrementAndGet();
        return slots.acquire().thenAccept(ignored -> start(message, record, partition, assignment));
    }

    private void start(Message<byte[]> message, IncomingRecord record, TopicPartition partition, int assignment) {
        String key = record.key().orElse("");
        CompletableFuture<Void> previous;
        CompletableFuture<Void> mine = new CompletableFuture<>();
        synchronized (lastOfKey) {
            previous = lastOfKey.getOrDefault(key, CompletableFuture.completedFuture(null));
            lastOfKey.put(key, mine);
        }
        JobControl control = new JobControl();
        previous.whenComplete((ignored, error) -> workers.execute(
                () -> run(message, record, control, key, mine, partition, assignment)));
    }

    private void run(Message<byte[]> message, IncomingRecord record, JobControl control, String key,
            CompletableFuture<Void> mine, TopicPartition partition, int assignment) {
        long started = System.nanoTime();
        running.put(control, partition);
        metrics.modelStarted();
        ScheduledFuture<?> timeout = timer.schedule(control::timeOut, config.jobTimeout().toMillis(), TimeUnit.MILLISECONDS);
        String outcome = "done";
        try {
            if (stopping || assignments.getOrDefault(partition, 0) != assignment) {
                control.abandon();
            }
            control.check();
            compressor.process(record, control);
            if (assignments.getOrDefault(partition, 0) != assignment) {
                // Finished just as its partition moved: the new owner answers it again from storage.
                throw new JobControl.Abandoned();
            }
            message.ack();
        } catch (JobControl.Abandoned e) {
            outcome = "abandoned";
            LOG.infof("%s: %s before it finished; not acknowledged, so it is processed again from the last committed offset",
                    record, stopping ? "stopped for shutdown" : "its partition moved to another instance");
        } catch (RetryLater e) {
            outcome = "retry";
            message.nack(e); // to the retry topic (failure-strategy=delayed-retry-topic)
        } catch (PublishFailure e) {
            outcome = "unpublished";
            LOG.errorf(e, "%s: output events could not be published; sent to the retry topic, then the dead letters",
                    record);
            message.nack(e);
        } catch (OutOfMemoryError e) {
            Fatal.outOfMemory(record, e);
        } catch (RuntimeException | Error e) {
            outcome = "error";
            LOG.errorf(e, "%s: unexpected error; the record is not acknowledged", record);
            message.nack(e);
        } finally {
            timeout.cancel(false);
            running.remove(control);
            metrics.modelFinished(Duration.ofNanos(System.nanoTime() - started), outcome);
            synchronized (lastOfKey) {
                lastOfKey.remove(key, mine);
            }
            mine.complete(null);
            MDC.clear();
            lastActivity = System.nanoTime();
            taken.decrementAndGet();
            slots.release();
        }
    }

    /** The usual way in is {@link ShutdownSignals}, before any shutdown hook; this covers every other exit. */
    void onStop(@Observes ShutdownEvent event) {
        drain();
    }

    /**
     * Stops taking records, lets running models finish within the shutdown grace, then abandons the
     * rest: their records stay unacknowledged, so their offsets are not committed and they are
     * processed after a restart (here or elsewhere), without a failure event. Returns once no job runs.
     */
    synchronized void drain() {
        if (drained) {
            return;
        }
        drained = true;
        stopping = true;
        slots.close();
        long deadline = System.nanoTime() + config.shutdownGrace().toNanos();
        if (!running.isEmpty()) {
            LOG.infof("stopping: %d model(s) in flight; waiting up to %s", running.size(), config.shutdownGrace());
        }
        awaitIdle(running.keySet(), deadline);
        if (!running.isEmpty()) {
            LOG.warnf("stopping: abandoning %d model(s) still in flight; they are processed after the restart",
                    running.size());
            running.keySet().forEach(JobControl::abandon);
            awaitIdle(running.keySet(), System.nanoTime() + ABANDON_WAIT.toNanos());
        }
        if (!running.isEmpty()) {
            LOG.errorf("stopping: %d job(s) did not stop within %s", running.size(), ABANDON_WAIT);
        } else {
            LOG.info("stopping: no model in flight");
        }
        // A clean stop: whatever was abandoned is no crash, so no record is counted against it.
        crashes.stop();
    }

    /**
     * Partitions taken away in a rebalance: their running jobs are abandoned and waited for, so that
     * the new owner, which starts from the last committed offset, is the only one working on them.
     */
    void partitionsRevoked(Collection<TopicPartition> partitions) {
        if (partitions.isEmpty()) {
            return;
        }
        owned.removeAll(partitions);
        partitions.forEach(partition -> assignments.merge(partition, 1, Integer::sum));
        Set<JobControl> affected = new HashSet<>();
        running.forEach((control, partition) -> {
            if (partitions.contains(partition)) {
                affected.add(control);
            }
        });
        if (!affected.isEmpty()) {
            LOG.infof("partitions %s moved away: abandoning %d model(s) in flight on them", partitions, affected.size());
            affected.forEach(JobControl::abandon);
            affected.retainAll(running.keySet());
            awaitIdle(affected, System.nanoTime() + REVOKE_WAIT.toNanos());
        }
    }

    /** Partitions given to this instance in a rebalance (besides those it keeps). */
    void partitionsAssigned(Collection<TopicPartition> partitions) {
        partitions.forEach(partition -> assignedTopics.add(partition.topic()));
        owned.addAll(partitions);
        joined = true;
    }

    /**
     * Since when (System.nanoTime) nothing has happened here: the instance has joined its group, is
     * not stopping, holds no record and none arrived since; empty while any of that is not so.
     */
    OptionalLong idleSince() {
        long since = lastActivity;
        if (!joined || stopping || taken.get() > 0) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(since);
    }

    /**
     * Whether a record of the partition is this instance's to process. A topic never seen in a
     * rebalance (a consumer without the hand-over listener) is not judged.
     */
    private boolean owned(TopicPartition partition) {
        return !assignedTopics.contains(partition.topic()) || owned.contains(partition);
    }

    @PreDestroy
    void close() {
        workers.shutdownNow();
        timer.shutdownNow();
    }

    /** True while no model is in flight; for the health check and tests. */
    public int inFlight() {
        return running.size();
    }

    private void awaitIdle(Set<JobControl> jobs, long deadline) {
        while (jobs.stream().anyMatch(running::containsKey) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static IncomingRecord toRecord(Message<byte[]> message) {
        Optional<IncomingKafkaRecordMetadata> metadata = message.getMetadata(IncomingKafkaRecordMetadata.class);
        if (metadata.isEmpty()) {
            return new IncomingRecord("unknown", -1, -1, Optional.empty(), Map.of(), message.getPayload());
        }
        IncomingKafkaRecordMetadata<?, ?> kafka = metadata.get();
        Map<String, String> headers = new LinkedHashMap<>();
        for (Header header : kafka.getHeaders()) {
            headers.put(header.key(), header.value() == null ? "" : new String(header.value(), StandardCharsets.UTF_8));
        }
        Object key = kafka.getKey();
        return new IncomingRecord(kafka.getTopic(), kafka.getPartition(), kafka.getOffset(),
                Optional.ofNullable(key).map(Object::toString), headers, message.getPayload());
    }
}

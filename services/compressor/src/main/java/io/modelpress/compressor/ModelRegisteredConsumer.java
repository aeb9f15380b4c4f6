package io.modelpress.compressor;

import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
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
 */
@ApplicationScoped
public class ModelRegisteredConsumer {

    private static final Logger LOG = Logger.getLogger(ModelRegisteredConsumer.class);
    private static final Duration ABANDON_WAIT = Duration.ofSeconds(10);

    private final Compressor compressor;
    private final CompressorConfig config;
    private final CompressorMetrics metrics;
    private final AsyncSlots slots;
    private final ExecutorService workers;
    private final ScheduledExecutorService timer;
    private final Map<String, CompletableFuture<Void>> lastOfKey = new HashMap<>();
    private final Set<JobControl> running = ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;

    @Inject
    public ModelRegisteredConsumer(Compressor compressor, CompressorConfig config, CompressorMetrics metrics) {
        this.compressor = compressor;
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
        IncomingRecord record = toRecord(message);
        return slots.acquire().thenAccept(ignored -> start(message, record));
    }

    private void start(Message<byte[]> message, IncomingRecord record) {
        String key = record.key().orElse("");
        CompletableFuture<Void> previous;
        CompletableFuture<Void> mine = new CompletableFuture<>();
        synchronized (lastOfKey) {
            previous = lastOfKey.getOrDefault(key, CompletableFuture.completedFuture(null));
            lastOfKey.put(key, mine);
        }
        JobControl control = new JobControl();
        previous.whenComplete((ignored, error) -> workers.execute(() -> run(message, record, control, key, mine)));
    }

    private void run(Message<byte[]> message, IncomingRecord record, JobControl control, String key,
            CompletableFuture<Void> mine) {
        long started = System.nanoTime();
        running.add(control);
        metrics.modelStarted();
        ScheduledFuture<?> timeout = timer.schedule(control::timeOut, config.jobTimeout().toMillis(), TimeUnit.MILLISECONDS);
        String outcome = "done";
        try {
            if (stopping) {
                control.abandon();
            }
            control.check();
            compressor.process(record, control);
            message.ack();
        } catch (JobControl.Abandoned e) {
            outcome = "abandoned";
            LOG.infof("%s: stopped for shutdown before it finished; not acknowledged, so it is processed after the restart",
                    record);
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
            slots.release();
        }
    }

    /**
     * Lets running models finish within the shutdown grace, then abandons the rest: their records
     * stay unacknowledged, so their offsets are not committed and they are processed after a restart.
     */
    void onStop(@Observes ShutdownEvent event) {
        stopping = true;
        slots.close();
        long deadline = System.nanoTime() + config.shutdownGrace().toNanos();
        if (!running.isEmpty()) {
            LOG.infof("stopping: %d model(s) in flight; waiting up to %s", running.size(), config.shutdownGrace());
        }
        awaitIdle(deadline);
        if (!running.isEmpty()) {
            LOG.warnf("stopping: abandoning %d model(s) still in flight; they are processed after the restart",
                    running.size());
            running.forEach(JobControl::abandon);
            awaitIdle(System.nanoTime() + ABANDON_WAIT.toNanos());
        }
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

    private void awaitIdle(long deadline) {
        while (!running.isEmpty() && System.nanoTime() < deadline) {
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

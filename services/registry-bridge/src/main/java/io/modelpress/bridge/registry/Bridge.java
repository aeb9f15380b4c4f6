package io.modelpress.bridge.registry;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The registry bridge without its HTTP and Kafka consumer edges: accepts deliveries into the journal,
 * works them off on its own threads (resolve, copy, publish), keeps every model's status and writes
 * results back. {@link #start()} resumes every delivery a previous run accepted but did not finish.
 */
public final class Bridge implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Bridge.class.getName());

    private final BridgeSettings settings;
    private final Optional<MlflowClient> mlflow;
    private final DeliveryJournal journal;
    private final StatusStore status;
    private final DeliveryProcessor processor;
    private final ResultWriter writer;
    private final WebhookReceiver receiver;
    private final EventSink sink;
    private final Clock clock;
    private final Set<String> scheduled = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService workers;
    private volatile boolean started;

    public Bridge(BridgeSettings settings, Optional<MlflowClient> mlflow, ObjectStore store, EventSink sink, Clock clock) {
        this.settings = requireNonNull(settings, "settings is null");
        this.mlflow = requireNonNull(mlflow, "mlflow is null");
        this.sink = requireNonNull(sink, "sink is null");
        this.clock = requireNonNull(clock, "clock is null");
        this.journal = new DeliveryJournal(settings.dataDir().resolve("journal"));
        this.status = new StatusStore(settings.dataDir().resolve("status"));
        ModelDirectory directory = new ModelDirectory(requireNonNull(store, "store is null"), mlflow, settings.bucket(),
                settings.maxModelBytes(), settings.dataDir().resolve("scratch"));
        this.processor = new DeliveryProcessor(settings, mlflow, directory, sink, clock);
        this.writer = new ResultWriter(mlflow, status, settings.registerCompressed());
        this.receiver = new WebhookReceiver(settings, this::accept, clock);
        this.workers = Executors.newScheduledThreadPool(2, runnable -> {
            Thread thread = new Thread(runnable, "registry-bridge-worker");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Starts working off the journal, beginning with what an earlier run left pending. */
    public synchronized void start() {
        if (started) {
            return;
        }
        started = true;
        List<Delivery> pending = journal.pending();
        if (!pending.isEmpty()) {
            LOG.info(() -> "resuming " + pending.size() + " accepted deliveries");
        }
        pending.forEach(this::schedule);
    }

    public WebhookReceiver webhooks() {
        return receiver;
    }

    public ResultWriter results() {
        return writer;
    }

    public StatusStore status() {
        return status;
    }

    public DeliveryJournal journal() {
        return journal;
    }

    public BridgeSettings settings() {
        return settings;
    }

    /** Journals a delivery (durably, before answering) and queues it; false when seen before. */
    public boolean accept(Delivery delivery) {
        if (!journal.accept(delivery)) {
            return false;
        }
        status.accepted(delivery.name(), delivery.version(), delivery.source());
        if (started) {
            schedule(delivery);
        }
        return true;
    }

    private void schedule(Delivery delivery) {
        if (!scheduled.add(delivery.key())) {
            return;
        }
        long delay = Math.max(0, Duration.between(clock.instant(), delivery.notBefore()).toMillis());
        workers.schedule(() -> run(delivery), delay, TimeUnit.MILLISECONDS);
    }

    private void run(Delivery delivery) {
        scheduled.remove(delivery.key());
        try {
            DeliveryProcessor.Outcome outcome = processor.process(delivery);
            if (outcome instanceof DeliveryProcessor.Published published) {
                published(delivery, published);
            } else if (outcome instanceof DeliveryProcessor.Wait wait) {
                boolean failure = !wait.why().contains(ModelVersion.PENDING);
                if (failure) {
                    LOG.warning(() -> "delivery " + delivery.deliveryId() + " will be tried again: " + wait.why());
                }
                Delivery next = delivery.later(wait.next(), failure);
                journal.update(next);
                schedule(next);
            } else if (outcome instanceof DeliveryProcessor.Failed failed) {
                failed(delivery, failed.reason());
            }
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "delivery " + delivery.deliveryId() + " failed unexpectedly", e);
            failed(delivery, "internal error: " + e);
        }
    }

    private void published(Delivery delivery, DeliveryProcessor.Published published) {
        String artifact = published.data().path("artifactUri").asText();
        journal.complete(delivery, "published", published.eventId());
        status.published(delivery.name(), delivery.version(), delivery.source(), artifact,
                DeliveryProcessor.profiles(published.data()));
        LOG.info(() -> "published model-registered " + published.eventId() + " for " + delivery.name() + "/"
                + delivery.version());
        if (Delivery.MLFLOW.equals(delivery.source())) {
            tagQuietly(delivery, ordered(Tags.SOURCE_URI, artifact, Tags.STATUS, ModelStatus.PUBLISHED));
        }
    }

    private void failed(Delivery delivery, String reason) {
        journal.complete(delivery, "failed", reason);
        status.failed(delivery.name(), delivery.version(), delivery.source(), reason);
        LOG.warning(() -> "delivery " + delivery.deliveryId() + " for " + delivery.name() + "/" + delivery.version()
                + " failed: " + reason);
        if (Delivery.MLFLOW.equals(delivery.source())) {
            tagQuietly(delivery, ordered(Tags.REASON, reason, Tags.STATUS, ModelStatus.FAILED));
        }
    }

    /** Status tags are a courtesy: the event is out (or the failure recorded) whether or not MLflow takes them. */
    private void tagQuietly(Delivery delivery, Map<String, String> tags) {
        try {
            writer.writeTags(delivery.name(), delivery.version(), tags);
        } catch (RuntimeException e) {
            LOG.warning(() -> "cannot tag " + delivery.name() + "/" + delivery.version() + ": " + e.getMessage());
        }
    }

    /** Two tags in this order: the status goes last, so a reader who sees it finds the other set. */
    private static Map<String, String> ordered(String key1, String value1, String key2, String value2) {
        Map<String, String> tags = new java.util.LinkedHashMap<>();
        tags.put(key1, value1);
        tags.put(key2, value2);
        return tags;
    }

    /** Now, as the bridge's clock tells it. */
    public Instant now() {
        return clock.instant();
    }

    @Override
    public void close() {
        workers.shutdownNow();
        try {
            workers.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sink.close();
    }
}

package io.modelpress.compressor;

import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Counts, in S3 so that the count survives the process, how often a record's job ended with the
 * process that ran it: out of memory, a native crash, a SIGKILL. Counting attempts would not do: with
 * several instances a record is also started again when its partition merely moved (a rebalance, a
 * stop), sometimes while the previous owner is still winding its job down.
 *
 * <p>So each process (a run) keeps a heartbeat object {@code modelpress/runs/<run>} that it rewrites
 * every {@link #BEAT}, and per record it starts a marker {@code modelpress/attempts/<topic>/<partition>/<offset>/<run>}.
 * A job that ends in any way (done, failed, abandoned for a hand-over or a stop) removes its marker; a
 * clean stop removes every marker the run still holds and then its heartbeat. What is left behind is a
 * marker whose run ended without a clean stop. When the same record starts again, a marker of another
 * run counts as a crash only if that run is dead: its heartbeat is missing, or it does not change for
 * {@link #DEAD_AFTER} while the marker stays. A run that is alive (still finishing a job it was asked to
 * give up) or that removes its marker meanwhile is no crash. Watching for a change, not comparing
 * clocks, keeps the rule free of clock skew between machines; the price is a wait of up to
 * {@code DEAD_AFTER} for a record that still has markers of other runs, which only happens after a
 * crash or during a hand-over.
 */
@ApplicationScoped
public class CrashLedger {

    private static final Logger LOG = Logger.getLogger(CrashLedger.class);
    static final String PREFIX = "modelpress/attempts/";
    static final String RUNS = "modelpress/runs/";
    /** How often a run rewrites its heartbeat. */
    static final Duration BEAT = Duration.ofSeconds(2);
    /** A heartbeat unchanged for this long (five beats; a loaded machine can miss a few) is a dead run's. */
    static final Duration DEAD_AFTER = BEAT.multipliedBy(5);

    private final ObjectStore store;
    private final String bucket;
    private final String run = UUID.randomUUID().toString();
    /** Markers this run wrote and has not removed yet, removed at the latest on a clean stop. */
    private final Set<S3Location> held = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService beats = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "crash-ledger-heartbeat");
        thread.setDaemon(true);
        return thread;
    });
    private final AtomicLong beat = new AtomicLong();
    private boolean beating;
    private boolean stopped;

    @Inject
    public CrashLedger(ObjectStore store, CompressorConfig config) {
        this.store = store;
        this.bucket = new InputPolicy(config.inputs().allowed()).stateBucket();
    }

    void onStart(@Observes StartupEvent event) {
        startBeating();
    }

    /**
     * Notes that the record's job starts.
     *
     * @param control stops the wait for other runs when the job is abandoned (a stop, a hand-over)
     * @return how many earlier runs died while running it
     * @throws JobControl.Abandoned when abandoned while it watched other runs' heartbeats
     */
    int begin(IncomingRecord record, JobControl control) {
        startBeating();
        S3Location mine = marker(record);
        try {
            Set<String> others = new TreeSet<>();
            for (ObjectStore.StoredObject object : store.listFolder(bucket, folder(record))) {
                String name = object.location().key().substring(folder(record).length());
                if (!name.equals(run)) {
                    others.add(name);
                }
            }
            held.add(mine);
            store.writeText(mine, Instant.now().toString(), "text/plain");
            try {
                return others.isEmpty() ? 0 : dead(record, others, control);
            } catch (JobControl.Abandoned e) {
                finished(record);
                throw e;
            }
        } catch (JobFailure e) {
            // Without storage the job fails on its own download; counting must not stop it first.
            LOG.warnf("%s: cannot count the crashes of this record at %s: %s", record, mine, e.getMessage());
            return 0;
        }
    }

    /** The job ended, with a result or a failure event, or was abandoned: this run's attempt is no crash. */
    void finished(IncomingRecord record) {
        S3Location mine = marker(record);
        try {
            store.delete(mine);
            held.remove(mine);
        } catch (JobFailure e) {
            LOG.warnf("%s: cannot remove the attempt marker (removed again at the stop): %s", record, e.getMessage());
        }
    }

    /**
     * A clean stop, once no job runs any more: markers still held (a job that did not stop in time)
     * are released, since nothing crashed, and the heartbeat is removed last.
     */
    synchronized void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        beats.shutdownNow();
        for (S3Location marker : Set.copyOf(held)) {
            try {
                store.delete(marker);
                held.remove(marker);
            } catch (JobFailure e) {
                LOG.warnf("cannot release the attempt marker %s: %s", marker, e.getMessage());
            }
        }
        if (beating) {
            try {
                store.delete(heartbeat(run));
            } catch (JobFailure e) {
                LOG.warnf("cannot remove the heartbeat %s: %s", heartbeat(run), e.getMessage());
            }
        }
    }

    @PreDestroy
    void close() {
        beats.shutdownNow();
    }

    S3Location marker(IncomingRecord record) {
        return new S3Location(bucket, folder(record) + run);
    }

    String run() {
        return run;
    }

    /**
     * How many of the runs that left a marker on the record are dead. Their heartbeats are read now
     * and again each beat until each run is judged: alive when its heartbeat changes, released when
     * its marker goes, dead when neither happens within {@link #DEAD_AFTER} or it has no heartbeat.
     */
    private int dead(IncomingRecord record, Set<String> runs, JobControl control) {
        Map<String, Optional<String>> first = new HashMap<>();
        int dead = 0;
        for (String other : runs) {
            Optional<String> heartbeat = store.readText(heartbeat(other));
            if (heartbeat.isEmpty()) {
                dead++;
                LOG.infof("%s: run %s left it unfinished and is gone: counted as a crash", record, other);
            } else {
                first.put(other, heartbeat);
            }
        }
        long deadline = System.nanoTime() + DEAD_AFTER.toNanos();
        while (!first.isEmpty() && System.nanoTime() < deadline) {
            sleep(BEAT);
            control.checkAbandoned();
            for (var it = first.entrySet().iterator(); it.hasNext();) {
                var entry = it.next();
                S3Location theirs = new S3Location(bucket, folder(record) + entry.getKey());
                if (!store.exists(theirs)) {
                    it.remove(); // released: its job ended after all
                    continue;
                }
                Optional<String> now = store.readText(heartbeat(entry.getKey()));
                if (now.isEmpty()) {
                    // Removed meanwhile, by a start that found it unchanged for as long: the same verdict.
                    dead++;
                    LOG.infof("%s: run %s left it unfinished and is gone: counted as a crash", record, entry.getKey());
                    it.remove();
                } else if (!now.equals(entry.getValue())) {
                    LOG.infof("%s: run %s still holds it and is alive: no crash", record, entry.getKey());
                    it.remove();
                }
            }
        }
        for (String other : first.keySet()) {
            dead++;
            LOG.infof("%s: run %s left it unfinished and its heartbeat stopped: counted as a crash", record, other);
        }
        return dead;
    }

    private synchronized void startBeating() {
        if (beating || stopped) {
            return;
        }
        beating = true;
        // Not on the caller's thread: with storage away, writing backs off, and the start must not wait for it.
        beats.scheduleWithFixedDelay(this::writeBeat, 0, BEAT.toMillis(), TimeUnit.MILLISECONDS);
        beats.execute(this::sweepDeadHeartbeats);
    }

    /**
     * Heartbeats of runs that ended without a clean stop stay behind. Once per start, those that do not
     * change for {@link #DEAD_AFTER} are removed: a missing heartbeat is judged as a dead one is.
     */
    void sweepDeadHeartbeats() {
        try {
            Map<S3Location, Optional<String>> seen = new HashMap<>();
            for (ObjectStore.StoredObject object : store.listFolder(bucket, RUNS)) {
                if (!object.location().equals(heartbeat(run))) {
                    seen.put(object.location(), store.readText(object.location()));
                }
            }
            if (seen.isEmpty()) {
                return;
            }
            beats.schedule(() -> removeUnchanged(seen), DEAD_AFTER.toMillis(), TimeUnit.MILLISECONDS);
        } catch (JobFailure | IllegalStateException e) {
            LOG.debugf("cannot look for heartbeats of dead runs: %s", e.getMessage());
        }
    }

    private void removeUnchanged(Map<S3Location, Optional<String>> seen) {
        seen.forEach((heartbeat, before) -> {
            try {
                if (before.isPresent() && store.readText(heartbeat).equals(before)) {
                    store.delete(heartbeat);
                    LOG.debugf("removed the heartbeat of a run that ended without a clean stop: %s", heartbeat);
                }
            } catch (JobFailure | IllegalStateException e) {
                LOG.debugf("cannot remove the heartbeat %s: %s", heartbeat, e.getMessage());
            }
        });
    }

    private void writeBeat() {
        try {
            store.writeText(heartbeat(run), beat.incrementAndGet() + " " + Instant.now(), "text/plain");
        } catch (JobFailure | IllegalStateException e) {
            LOG.debugf("cannot write the heartbeat %s: %s", heartbeat(run), e.getMessage());
        }
    }

    private S3Location heartbeat(String someRun) {
        return new S3Location(bucket, RUNS + someRun);
    }

    private static String folder(IncomingRecord record) {
        return PREFIX + record.topic() + "/" + record.partition() + "/" + record.offset() + "/";
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new JobControl.Abandoned();
        }
    }
}

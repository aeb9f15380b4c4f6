package io.modelpress.compressor;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(LocalStackResource.class)
class CrashLedgerTest {

    @Inject
    CrashLedger ledger;

    @Inject
    ObjectStore store;

    @Inject
    CompressorConfig config;

    /** A crashed run leaves its heartbeat behind; a later start removes it, and only it. */
    @Test
    void heartbeatsThatNoLongerChangeAreRemovedAndLiveOnesStay() throws Exception {
        String bucket = new InputPolicy(config.inputs().allowed()).stateBucket();
        S3Location dead = new S3Location(bucket, CrashLedger.RUNS + "run-that-crashed");
        S3Location alive = new S3Location(bucket, CrashLedger.RUNS + "run-on-another-machine");
        S3Location mine = new S3Location(bucket, CrashLedger.RUNS + ledger.run());
        store.writeText(dead, "7 2026-01-01T00:00:00Z", "text/plain");
        AtomicInteger beat = new AtomicInteger();
        ScheduledExecutorService other = Executors.newSingleThreadScheduledExecutor();
        try {
            other.scheduleWithFixedDelay(() -> store.writeText(alive, beat.incrementAndGet() + "", "text/plain"),
                    0, CrashLedger.BEAT.toMillis(), TimeUnit.MILLISECONDS);
            Thread.sleep(500);

            ledger.sweepDeadHeartbeats();
            long deadline = System.nanoTime() + CrashLedger.DEAD_AFTER.plus(Duration.ofSeconds(30)).toNanos();
            while (store.exists(dead) && System.nanoTime() < deadline) {
                Thread.sleep(500);
            }
            assertFalse(store.exists(dead), "the crashed run's heartbeat is still there");
            assertTrue(store.exists(alive), "a run whose heartbeat changes is alive");
            assertTrue(store.exists(mine), "this run's own heartbeat stays");
        } finally {
            other.shutdownNow();
        }
    }
}

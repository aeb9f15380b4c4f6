package io.modelpress.compressor;

import io.smallrye.faulttolerance.api.Guard;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Retries with exponential backoff (SmallRye Fault Tolerance) for calls that fail for a transient
 * reason: a {@link JobFailure} marked retryable, or a {@link PublishFailure} the broker may accept
 * later (Kafka's retriable errors, timeouts). Anything else, and a
 * permanent failure, goes straight through. An outage longer than the backoff's maximum duration
 * ends the job with a retryable failure, which sends the record to the retry topic.
 */
final class Backoff {

    private static final Logger LOG = Logger.getLogger(Backoff.class);
    private static final String SETTING = "MODELPRESS_FAULTS_BACKOFF_";

    private Backoff() {
    }

    /** @throws IllegalStateException when the settings contradict each other (see {@link #check}) */
    static Guard guard(String what, CompressorConfig.Faults.Backoff settings) {
        check(settings);
        return Guard.create().withDescription(what)
                .withRetry()
                .maxRetries(settings.maxRetries())
                .delay(settings.delay().toMillis(), ChronoUnit.MILLIS)
                .jitter(Math.max(1, settings.delay().toMillis() / 4), ChronoUnit.MILLIS)
                .maxDuration(settings.maxDuration().toMillis(), ChronoUnit.MILLIS)
                .whenException(Backoff::isTransient)
                .beforeRetry(error -> LOG.warnf("%s: %s; trying again", what, error.getMessage()))
                .withExponentialBackoff().maxDelay(settings.maxDelay().toMillis(), ChronoUnit.MILLIS).done()
                .done()
                .build();
    }

    /**
     * Refuses settings that contradict each other. The retry library would refuse them only inside the
     * first call, failing every job instead of the start (guards are built when the service starts).
     */
    static void check(CompressorConfig.Faults.Backoff settings) {
        requireShorter(settings.delay(), "DELAY", settings.maxDelay(), "MAX_DELAY");
        requireShorter(settings.delay(), "DELAY", settings.maxDuration(), "MAX_DURATION");
    }

    private static void requireShorter(Duration shorter, String shorterName, Duration longer, String longerName) {
        if (shorter.compareTo(longer) >= 0) {
            throw new IllegalStateException(SETTING + shorterName + " (" + shorter + ") must be shorter than " + SETTING
                    + longerName + " (" + longer + ")");
        }
    }

    static boolean isTransient(Throwable error) {
        return error instanceof JobFailure failure && failure.retryable()
                || error instanceof PublishFailure publish && publish.transientFault();
    }

    @SuppressWarnings("unchecked")
    static <T> T run(Guard guard, Supplier<T> call) {
        return (T) guard.get((Supplier<Object>) (Supplier<?>) call, Object.class);
    }
}

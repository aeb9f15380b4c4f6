package io.modelpress.engine.plan;

import io.modelpress.spi.HardwareProfile;
import java.time.Duration;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * What a compressed model must meet, and how long the search for it may take.
 *
 * @param maxAccuracyDrop accuracy (or, without labels, fidelity) the owner accepts to lose, as a fraction
 * @param maxBytes largest model file (with external data) accepted, if bounded
 * @param maxLatencyMillis median latency accepted at the profile's batch size, if bounded
 * @param timeLimit how long planning may run; the best result so far is returned when it runs out
 */
public record Budget(double maxAccuracyDrop, OptionalLong maxBytes, OptionalDouble maxLatencyMillis, Duration timeLimit) {

    public static final Duration DEFAULT_TIME_LIMIT = Duration.ofMinutes(10);

    public Budget {
        if (!(maxAccuracyDrop >= 0 && maxAccuracyDrop <= 1)) {
            throw new IllegalArgumentException("maxAccuracyDrop must be a fraction in [0, 1], not " + maxAccuracyDrop);
        }
        Objects.requireNonNull(maxBytes, "maxBytes is null");
        Objects.requireNonNull(maxLatencyMillis, "maxLatencyMillis is null");
        Objects.requireNonNull(timeLimit, "timeLimit is null");
    }

    /** The profile's own budgets. */
    public static Budget of(HardwareProfile profile) {
        return new Budget(profile.maxAccuracyDrop(), profile.sizeBudgetBytes(), profile.latencyBudgetMillis(),
                DEFAULT_TIME_LIMIT);
    }

    public Budget withMaxAccuracyDrop(double drop) {
        return new Budget(drop, maxBytes, maxLatencyMillis, timeLimit);
    }

    public Budget withMaxBytes(long bytes) {
        return new Budget(maxAccuracyDrop, OptionalLong.of(bytes), maxLatencyMillis, timeLimit);
    }

    public Budget withMaxLatencyMillis(double millis) {
        return new Budget(maxAccuracyDrop, maxBytes, OptionalDouble.of(millis), timeLimit);
    }

    /** This budget without a latency bound, for targets whose latency cannot be measured here. */
    public Budget withoutLatency() {
        return new Budget(maxAccuracyDrop, maxBytes, OptionalDouble.empty(), timeLimit);
    }

    public Budget withTimeLimit(Duration limit) {
        return new Budget(maxAccuracyDrop, maxBytes, maxLatencyMillis, limit);
    }
}

package io.modelpress.engine.plan;

import io.modelpress.spi.HardwareProfile;
import java.time.Duration;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * What a compressed model must meet, and how long the search for it may take.
 *
 * @param maxAccuracyDrop accuracy (or, without labels, agreement with the original) the owner accepts to lose, in
 *     percentage points: 1 is one point
 * @param maxBytes largest model file (with external data) accepted, if bounded
 * @param maxLatencyMillis median latency accepted at the profile's batch size, if bounded
 * @param maxMemoryBytes memory the compressed model's session may take while it runs, if bounded: measured for
 *     the finalists as the peak a fresh process's session reaches loading the model and running it once (see
 *     {@link MemoryCheck})
 * @param floors fidelity every output keeps, whatever the drop
 * @param timeLimit how long planning may run; the best result so far is returned when it runs out
 */
public record Budget(double maxAccuracyDrop, OptionalLong maxBytes, OptionalDouble maxLatencyMillis,
        OptionalLong maxMemoryBytes, Floors floors, Duration timeLimit) {

    public static final Duration DEFAULT_TIME_LIMIT = Duration.ofMinutes(10);

    public Budget {
        if (!(maxAccuracyDrop >= 0 && maxAccuracyDrop <= 100)) {
            throw new IllegalArgumentException("maxAccuracyDrop must be in percentage points from 0 to 100, not "
                    + maxAccuracyDrop);
        }
        Objects.requireNonNull(maxBytes, "maxBytes is null");
        Objects.requireNonNull(maxLatencyMillis, "maxLatencyMillis is null");
        Objects.requireNonNull(maxMemoryBytes, "maxMemoryBytes is null");
        Objects.requireNonNull(floors, "floors is null");
        Objects.requireNonNull(timeLimit, "timeLimit is null");
    }

    /** A budget with no memory bound and the default floors. */
    public Budget(double maxAccuracyDrop, OptionalLong maxBytes, OptionalDouble maxLatencyMillis, Duration timeLimit) {
        this(maxAccuracyDrop, maxBytes, maxLatencyMillis, OptionalLong.empty(), Floors.DEFAULT, timeLimit);
    }

    /** The profile's own budgets, memory and floors included. */
    public static Budget of(HardwareProfile profile) {
        return new Budget(profile.maxAccuracyDrop(), profile.sizeBudgetBytes(), profile.latencyBudgetMillis(),
                profile.memoryBudgetBytes(), Floors.of(profile), DEFAULT_TIME_LIMIT);
    }

    /** @param points percentage points */
    public Budget withMaxAccuracyDrop(double points) {
        return new Budget(points, maxBytes, maxLatencyMillis, maxMemoryBytes, floors, timeLimit);
    }

    public Budget withMaxBytes(long bytes) {
        return new Budget(maxAccuracyDrop, OptionalLong.of(bytes), maxLatencyMillis, maxMemoryBytes, floors, timeLimit);
    }

    public Budget withMaxLatencyMillis(double millis) {
        return new Budget(maxAccuracyDrop, maxBytes, OptionalDouble.of(millis), maxMemoryBytes, floors, timeLimit);
    }

    public Budget withMaxMemoryBytes(long bytes) {
        return new Budget(maxAccuracyDrop, maxBytes, maxLatencyMillis, OptionalLong.of(bytes), floors, timeLimit);
    }

    public Budget withFloors(Floors newFloors) {
        return new Budget(maxAccuracyDrop, maxBytes, maxLatencyMillis, maxMemoryBytes, newFloors, timeLimit);
    }

    /** This budget without a latency bound, for targets whose latency cannot be measured here. */
    public Budget withoutLatency() {
        return new Budget(maxAccuracyDrop, maxBytes, OptionalDouble.empty(), maxMemoryBytes, floors, timeLimit);
    }

    public Budget withTimeLimit(Duration limit) {
        return new Budget(maxAccuracyDrop, maxBytes, maxLatencyMillis, maxMemoryBytes, floors, limit);
    }
}

package io.modelpress.engine;

import java.time.Duration;
import java.util.Objects;

/**
 * How long one plugin call may run. Past {@code limit} the plugin is asked to stop (its context
 * says cancelled, its thread is interrupted); a plugin still running {@code grace} later is left
 * behind on its own thread and the step fails, so a hanging plugin never holds the job.
 *
 * @param limit longest one step may take
 * @param grace how long a cancelled step may take to stop before it is left behind
 */
public record StepLimit(Duration limit, Duration grace) {

    /** For hosts that set nothing: long enough for distillation of a mid-sized model on a CPU. */
    public static final StepLimit DEFAULT = new StepLimit(Duration.ofMinutes(30), Duration.ofSeconds(10));

    public StepLimit {
        Objects.requireNonNull(limit, "limit is null");
        Objects.requireNonNull(grace, "grace is null");
        if (limit.isNegative() || limit.isZero()) {
            throw new EngineException("a step's time limit must be positive, not " + limit);
        }
        if (grace.isNegative()) {
            throw new EngineException("a step's cancellation grace must not be negative, not " + grace);
        }
    }

    /** The limit as a user reads it: {@code 90 s}, {@code 1500 ms}. */
    static String text(Duration duration) {
        return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + " s" : duration.toMillis() + " ms";
    }
}

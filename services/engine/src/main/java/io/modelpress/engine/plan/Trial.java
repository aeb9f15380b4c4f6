package io.modelpress.engine.plan;

import io.modelpress.engine.ChainStep;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * One candidate chain as the planner tried it.
 *
 * @param index the candidate's place in the search order (ties go to the earlier one)
 * @param chain the steps
 * @param rationale why this chain is a candidate for the profile
 * @param outcome {@code measured}, {@code failed} (a step failed or the result does not run) or {@code not-tried} (time ran out)
 * @param bytes model file size with external data
 * @param packagedBytes size after packaging, when the chain packaged it
 * @param latencyMillis median latency at the profile's batch size, when timed
 * @param drop accuracy or fidelity lost (see {@link Planning#dropMeasure()}), when measured
 * @param violations budgets the result misses, each with by how much; empty when it meets all
 * @param error why it failed, if it did
 */
public record Trial(int index, List<ChainStep> chain, String rationale, String outcome, long bytes,
        Optional<Long> packagedBytes, OptionalDouble latencyMillis, OptionalDouble drop, List<String> violations,
        Optional<String> error) {

    public static final String MEASURED = "measured";
    public static final String FAILED = "failed";
    public static final String NOT_TRIED = "not-tried";

    public Trial {
        chain = List.copyOf(chain);
        violations = List.copyOf(violations);
    }

    public boolean measured() {
        return outcome.equals(MEASURED);
    }

    public boolean meetsBudget() {
        return measured() && violations.isEmpty();
    }

    public String chainText() {
        return String.join(" -> ", chain.stream().map(ChainStep::toString).toList());
    }
}

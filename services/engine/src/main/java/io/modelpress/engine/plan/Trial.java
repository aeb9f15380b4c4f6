package io.modelpress.engine.plan;

import io.modelpress.engine.ChainStep;
import io.modelpress.inference.OutputFidelity;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * One candidate chain as the planner tried it, with every figure it was compared on.
 *
 * @param index the candidate's place in the search order
 * @param chain the steps
 * @param rationale why this chain is a candidate for the profile
 * @param outcome {@code measured}, {@code failed} (a step failed or the result does not run) or {@code not-tried} (time ran out)
 * @param bytes model file size with external data
 * @param packagedBytes size after packaging, when the chain packaged it
 * @param latencyMillis median latency at the profile's batch size, when timed
 * @param drop accuracy or agreement lost, in percentage points (see {@link Planning#dropMeasure()}), when measured
 * @param violations budgets and floors the result misses, each with by how much; empty when it meets all
 * @param error why it failed, if it did
 * @param fidelity every output's figures against the original on the judging data
 * @param memoryBytes peak memory the compressed model's session took (see {@link MemoryCheck}), when measured
 * @param verdict why it was chosen, or why it lost
 */
public record Trial(int index, List<ChainStep> chain, String rationale, String outcome, long bytes,
        Optional<Long> packagedBytes, OptionalDouble latencyMillis, OptionalDouble drop, List<String> violations,
        Optional<String> error, List<OutputFidelity> fidelity, OptionalLong memoryBytes, Optional<String> verdict) {

    public static final String MEASURED = "measured";
    public static final String FAILED = "failed";
    public static final String NOT_TRIED = "not-tried";

    public Trial {
        chain = List.copyOf(chain);
        violations = List.copyOf(violations);
        fidelity = List.copyOf(fidelity);
    }

    public Trial(int index, List<ChainStep> chain, String rationale, String outcome, long bytes,
            Optional<Long> packagedBytes, OptionalDouble latencyMillis, OptionalDouble drop, List<String> violations,
            Optional<String> error) {
        this(index, chain, rationale, outcome, bytes, packagedBytes, latencyMillis, drop, violations, error, List.of(),
                OptionalLong.empty(), Optional.empty());
    }

    public boolean measured() {
        return outcome.equals(MEASURED);
    }

    public boolean meetsBudget() {
        return measured() && violations.isEmpty();
    }

    /**
     * The worst output's fidelity, used to break ties: the lowest of every output's mean cosine and, for
     * outputs with positions, its exact-sequence agreement. 0 when nothing was compared.
     */
    public double fidelityScore() {
        return fidelity.stream().mapToDouble(output -> Math.min(output.meanCosine(),
                output.sequenceAgreement().orElse(1))).min().orElse(0);
    }

    public Trial withVerdict(String text) {
        return new Trial(index, chain, rationale, outcome, bytes, packagedBytes, latencyMillis, drop, violations, error,
                fidelity, memoryBytes, Optional.of(text));
    }

    /** The same trial with the size its packaging step reported, once that step ran. */
    public Trial withPackagedBytes(Optional<Long> packaged) {
        return new Trial(index, chain, rationale, outcome, bytes, packaged, latencyMillis, drop, violations, error,
                fidelity, memoryBytes, verdict);
    }

    /** This trial with its session memory measured, and the violation it adds when over the budget. */
    Trial withMemory(long bytes, Optional<String> violation) {
        List<String> all = new java.util.ArrayList<>(violations);
        violation.ifPresent(all::add);
        return new Trial(index, chain, rationale, outcome, this.bytes, packagedBytes, latencyMillis, drop, all, error,
                fidelity, OptionalLong.of(bytes), verdict);
    }

    public String chainText() {
        return String.join(" -> ", chain.stream().map(ChainStep::toString).toList());
    }
}

package io.modelpress.engine.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.ChainStep;
import io.modelpress.inference.OutputFidelity;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The choice among measured candidates: smallest within budget, else closest, ties to the more faithful. */
class SelectionTest {

    private static final Budget BUDGET = new Budget(1, OptionalLong.of(1000), OptionalDouble.of(10), Duration.ofMinutes(1));

    private static Trial trial(int index, long bytes, double latency, double drop) {
        return new Trial(index, List.of(ChainStep.parse("step-" + index)), "test", Trial.MEASURED, bytes, Optional.empty(),
                OptionalDouble.of(latency), OptionalDouble.of(drop),
                Selection.violations(bytes, OptionalDouble.of(latency), drop, "accuracy", BUDGET), Optional.empty());
    }

    @Test
    void choosesTheSmallestThatMeetsEveryBudget() {
        Trial int8 = trial(0, 900, 5, 0.4);
        Trial int4 = trial(1, 500, 5, 3); // too much accuracy lost
        Trial pruned = trial(2, 700, 6, 0.8);
        assertEquals(Optional.of(pruned), Selection.best(List.of(int8, int4, pruned)));
    }

    @Test
    void tiesInSizeAndDropGoToTheMoreFaithfulNeverToTheEarlier() {
        Trial first = faithful(0, 0.991);
        Trial second = faithful(1, 0.999);
        assertEquals(Optional.of(second), Selection.best(List.of(first, second)));
        assertEquals(Optional.of(second), Selection.best(List.of(second, first)));
    }

    @Test
    void anOutputBelowAFloorNeverMeetsTheBudgetWhateverTheDrop() {
        OutputFidelity damaged = new OutputFidelity("scores", 0.75, 0.56, 1, 0.1, 0.5, OptionalDouble.of(0.985), 32);
        List<String> missed = Selection.violations(500, OptionalDouble.of(5), OptionalLong.empty(), 0.5, "agreement",
                List.of(damaged), BUDGET);
        assertEquals(List.of("output 'scores' mean cosine 0.7500 is under the floor 0.9800",
                "output 'scores' worst-sample cosine 0.5600 is under the floor 0.9000"), missed);
    }

    @Test
    void aMeasuredSessionOverTheMemoryBudgetMissesIt() {
        List<String> missed = Selection.violations(500, OptionalDouble.of(5), OptionalLong.of(3_000_000), 0, "agreement",
                List.of(), BUDGET.withMaxMemoryBytes(1_000_000));
        assertEquals(List.of("session memory 3000000 bytes is over the 1000000 allowed"), missed);
    }

    private static Trial faithful(int index, double cosine) {
        OutputFidelity output = new OutputFidelity("scores", cosine, cosine, 0.1, 0.01, 0.01, OptionalDouble.of(1), 8);
        return new Trial(index, List.of(ChainStep.parse("step-" + index)), "test", Trial.MEASURED, 800, Optional.empty(),
                OptionalDouble.of(5), OptionalDouble.of(0), List.of(), Optional.empty(), List.of(output),
                OptionalLong.empty(), Optional.empty());
    }

    @Test
    void withoutAFitTheClosestIsChosenAndItsMissesAreNamed() {
        Trial slightlyLarge = trial(0, 1100, 5, 0.0);
        Trial muchTooInaccurate = trial(1, 400, 5, 20);
        List<Trial> trials = List.of(slightlyLarge, muchTooInaccurate);
        assertTrue(Selection.best(trials).isEmpty());
        assertEquals(Optional.of(slightlyLarge), Selection.closest(trials, BUDGET));
        assertEquals(List.of("size 1100 bytes is over the 1000 allowed"), slightlyLarge.violations());
        assertEquals(List.of("accuracy drop 20.00 points is over the 1.00 points allowed"), muchTooInaccurate.violations());
    }

    @Test
    void theParetoSetKeepsOnlyUndominatedTrials() {
        Trial small = trial(0, 400, 9, 2);
        Trial fast = trial(1, 900, 2, 2);
        Trial accurate = trial(2, 900, 9, 0.0);
        Trial dominated = trial(3, 950, 9, 2); // worse than `accurate` everywhere
        assertEquals(List.of(small, fast, accurate), Selection.pareto(List.of(small, fast, accurate, dominated)));
    }

    @Test
    void failedAndUntriedCandidatesAreNeverChosen() {
        Trial failed = new Trial(0, List.of(), "test", Trial.FAILED, 10, Optional.empty(), OptionalDouble.empty(),
                OptionalDouble.empty(), List.of(), Optional.of("boom"));
        Trial fits = trial(1, 900, 5, 0.0);
        assertEquals(Optional.of(fits), Selection.best(List.of(failed, fits)));
        assertEquals(List.of(fits), Selection.pareto(List.of(failed, fits)));
    }
}

package io.modelpress.engine.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.ChainStep;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The choice among measured candidates: smallest within budget, else closest, ties to the earlier. */
class SelectionTest {

    private static final Budget BUDGET = new Budget(0.01, OptionalLong.of(1000), OptionalDouble.of(10), Duration.ofMinutes(1));

    private static Trial trial(int index, long bytes, double latency, double drop) {
        return new Trial(index, List.of(ChainStep.parse("step-" + index)), "test", Trial.MEASURED, bytes, Optional.empty(),
                OptionalDouble.of(latency), OptionalDouble.of(drop),
                Selection.violations(bytes, OptionalDouble.of(latency), drop, "accuracy", BUDGET), Optional.empty());
    }

    @Test
    void choosesTheSmallestThatMeetsEveryBudget() {
        Trial int8 = trial(0, 900, 5, 0.004);
        Trial int4 = trial(1, 500, 5, 0.03); // too much accuracy lost
        Trial pruned = trial(2, 700, 6, 0.008);
        assertEquals(Optional.of(pruned), Selection.best(List.of(int8, int4, pruned)));
    }

    @Test
    void tiesGoToTheEarlierCandidate() {
        Trial first = trial(0, 800, 5, 0.0);
        Trial second = trial(1, 800, 4, 0.0);
        assertEquals(Optional.of(first), Selection.best(List.of(second, first)));
    }

    @Test
    void withoutAFitTheClosestIsChosenAndItsMissesAreNamed() {
        Trial slightlyLarge = trial(0, 1100, 5, 0.0);
        Trial muchTooInaccurate = trial(1, 400, 5, 0.2);
        List<Trial> trials = List.of(slightlyLarge, muchTooInaccurate);
        assertTrue(Selection.best(trials).isEmpty());
        assertEquals(Optional.of(slightlyLarge), Selection.closest(trials, BUDGET));
        assertEquals(List.of("size 1100 bytes is over the 1000 allowed"), slightlyLarge.violations());
        assertEquals(List.of("accuracy drop 20.00 points is over the 1.00 allowed"), muchTooInaccurate.violations());
    }

    @Test
    void theParetoSetKeepsOnlyUndominatedTrials() {
        Trial small = trial(0, 400, 9, 0.02);
        Trial fast = trial(1, 900, 2, 0.02);
        Trial accurate = trial(2, 900, 9, 0.0);
        Trial dominated = trial(3, 950, 9, 0.02); // worse than `accurate` everywhere
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

package io.modelpress.engine.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.TestProfiles;
import io.modelpress.inference.OutputFidelity;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** The probe rules a candidate out only when the samples it has not seen could not change the verdict. */
class ProbeTest {

    /** One point of drop, mean cosine 0.98, worst 0.90. */
    private final Budget budget = Budget.of(TestProfiles.cpu()).withMaxAccuracyDrop(1).withFloors(Floors.DEFAULT);

    private static OutputFidelity hidden(double mean, double worst) {
        return new OutputFidelity("hidden", mean, worst, 0, 0, 0, OptionalDouble.empty(), 8);
    }

    private static OutputFidelity scores(double mean, double worst, double top1) {
        return new OutputFidelity("scores", mean, worst, 0, 0, 0, OptionalDouble.of(top1), 8);
    }

    @Test
    void aSampleUnderTheWorstSampleFloorRulesOutWhateverFollows() {
        Optional<String> reason = Probe.cannotMeet(List.of(scores(0.99, 0.85, 1)), 8, 100, budget, false);
        assertTrue(reason.orElseThrow().contains("worst-sample cosine 0.8500 is under the floor 0.9000"), reason.get());
    }

    @Test
    void aLowProbeMeanRulesOutOnlyWhenPerfectSamplesAfterItCouldNotLiftItToTheFloor() {
        // 8 of 20 at mean 0.95: at best (8 * 0.95 + 12) / 20 = 0.98, just the floor: not ruled out
        assertEquals(Optional.empty(), Probe.cannotMeet(List.of(scores(0.95, 0.92, 1)), 8, 20, budget, false));
        // 8 of 20 at mean 0.94: at best 0.976, under it
        assertTrue(Probe.cannotMeet(List.of(scores(0.94, 0.92, 1)), 8, 20, budget, false).isPresent());
        // the same probe among 400 samples could still end above the floor
        assertEquals(Optional.empty(), Probe.cannotMeet(List.of(scores(0.94, 0.92, 1)), 8, 400, budget, false));
    }

    @Test
    void lostAgreementOnTheProbeBoundsTheDropFromBelow() {
        // one row of eight disagrees: over 20 samples at least 5 points lost, over 1,000 at least 0.1
        assertTrue(Probe.cannotMeet(List.of(scores(0.999, 0.99, 7.0 / 8)), 8, 20, budget, false).orElseThrow()
                .contains("loses at least 5.00 points"));
        assertEquals(Optional.empty(), Probe.cannotMeet(List.of(scores(0.999, 0.99, 7.0 / 8)), 8, 1000, budget, false));
        // with labelled data the drop is lost accuracy, which agreement does not bound
        assertEquals(Optional.empty(), Probe.cannotMeet(List.of(scores(0.999, 0.99, 7.0 / 8)), 8, 20, budget, true));
    }

    @Test
    void anOutputOfOneValuePerSampleIsNeverRuledOutOnTheProbe() {
        // its cosine is taken over all samples as one vector (mean and worst are that one figure)
        assertEquals(Optional.empty(), Probe.cannotMeet(List.of(hidden(0.5, 0.5)), 8, 20, budget, false));
        assertTrue(Probe.cannotMeet(List.of(hidden(0.5, 0.4)), 8, 20, budget, false).isPresent());
    }
}

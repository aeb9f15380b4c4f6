package io.modelpress.engine.plan;

import io.modelpress.inference.OutputFidelity;
import java.util.List;
import java.util.Optional;

/**
 * Rules a candidate out from its figures on the probe (the first judging samples) only when no
 * figures on the remaining samples could let it meet the budget, so that stopping early never
 * changes a choice. Every figure here is a mean over units that each score at most 1 (a sample's
 * cosine, an arg-max row, a decoded sequence), with as many units in every sample (samples share
 * one shape); a sample's cosine at most 1 bounds the mean from above, and the probe's worst sample
 * bounds the worst from above. An output of one value per sample is compared as one vector across
 * all samples (its mean and worst cosine are the same figure), which more samples can change either
 * way: it is never ruled out on the probe.
 */
final class Probe {

    private Probe() {
    }

    /**
     * @param labelled whether labelled data judges: then the drop is lost accuracy, which the probe does
     *     not bound, and only the fidelity floors are checked
     */
    static Optional<String> cannotMeet(List<OutputFidelity> probe, int probed, int total, Budget budget,
            boolean labelled) {
        String where = "on the probe (the first " + probed + " of " + total + " judging samples) ";
        for (OutputFidelity output : probe) {
            boolean perSample = output.meanCosine() != output.minCosine();
            if (perSample && output.minCosine() < budget.floors().worstCosine()) {
                return Optional.of(String.format("%soutput '%s' worst-sample cosine %.4f is under the floor %.4f", where, output.output(), output.minCosine(), budget.floors().worstCosine()));
            }
            double meanAtBest = atBest(output.meanCosine(), probed, total);
            if (perSample && meanAtBest < budget.floors().meanCosine()) {
                return Optional.of(String.format("%soutput '%s' mean cosine %.4f: at most %.4f over all %d samples, "
                        + "under the floor %.4f", where, output.output(), output.meanCosine(), meanAtBest, total,
                        budget.floors().meanCosine()));
            }
            if (!labelled) {
                Optional<Double> agreement = output.sequenceAgreement().isPresent()
                        ? Optional.of(output.sequenceAgreement().getAsDouble())
                        : output.top1Agreement().isPresent() ? Optional.of(output.top1Agreement().getAsDouble())
                        : perSample ? Optional.of(output.meanCosine()) : Optional.empty();
                if (agreement.isPresent()) {
                    double dropAtLeast = 100 * (1 - atBest(agreement.get(), probed, total));
                    if (dropAtLeast > budget.maxAccuracyDrop()) {
                        return Optional.of(String.format("%soutput '%s' loses at least %.2f points of agreement over "
                                + "all %d samples, over the %.2f allowed", where, output.output(), dropAtLeast, total,
                                budget.maxAccuracyDrop()));
                    }
                }
            }
        }
        return Optional.empty();
    }

    /** The highest mean over all samples that a mean over the probe allows, every other unit scoring 1. */
    static double atBest(double probeMean, int probed, int total) {
        return 1 - (1 - probeMean) * probed / total;
    }
}

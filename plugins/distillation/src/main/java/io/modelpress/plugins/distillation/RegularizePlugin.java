package io.modelpress.plugins.distillation;

import io.modelpress.spi.Technique;

/**
 * Sparsity by training: an L1 penalty (or group lasso over channels) pulls weights that matter little
 * towards zero while the data keeps the ones that matter, so that magnitude or structured pruning
 * afterwards removes more for the same loss.
 */
public final class RegularizePlugin extends RetrainingPlugin {

    @Override
    public String id() {
        return "regularize";
    }

    @Override
    public Technique technique() {
        return Technique.PRUNING;
    }

    @Override
    public String description() {
        return "Trains with L1/L2 or group-lasso penalties so that weights or whole channels approach zero before"
                + " pruning";
    }

    @Override
    double[] penaltyDefaults() {
        return new double[] {1e-5, 0, 0};
    }

    @Override
    int defaultEpochs() {
        return 5;
    }

    @Override
    boolean givenIsCandidate() {
        return false;
    }

    @Override
    double defaultLearningRate() {
        return 5e-4;
    }
}

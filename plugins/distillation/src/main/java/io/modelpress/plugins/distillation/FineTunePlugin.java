package io.modelpress.plugins.distillation;

import io.modelpress.spi.Technique;

/**
 * Fine-tuning after a weight technique: pruned zeros stay zero, shared weights stay shared (their
 * codebook is what trains), removed channels stay removed; the rest recovers what the cut cost.
 */
public final class FineTunePlugin extends RetrainingPlugin {

    @Override
    public String id() {
        return "fine-tune";
    }

    @Override
    public Technique technique() {
        return Technique.DISTILLATION;
    }

    @Override
    public String description() {
        return "Trains the model's weights on the request's data after pruning or weight sharing, keeping pruned"
                + " zeros and shared clusters";
    }

    @Override
    double[] penaltyDefaults() {
        return new double[] {0, 0, 0};
    }

    @Override
    int defaultEpochs() {
        return 10;
    }

    @Override
    boolean givenIsCandidate() {
        return true;
    }

    @Override
    double defaultLearningRate() {
        return 5e-4;
    }
}

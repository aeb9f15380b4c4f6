package io.modelpress.plugins.distillation;

import java.util.Objects;

/**
 * How an existing model is trained further (fine-tuning, regularisation).
 *
 * @param epochs most passes over the training rows
 * @param timeLimitSeconds stop after the batch that passes this many seconds of training; 0 for none
 * @param batchSize rows per optimiser step
 * @param learningRate Adam's step size at the start
 * @param schedule how the step size changes over the steps
 * @param seed seeds the held-out split, the batch order and the engine
 * @param holdout fraction of the rows held out to judge epochs and stop early
 * @param patience epochs without a better held-out result before stopping; 0 never stops early
 * @param l1 weight of the L1 penalty on the weights
 * @param l2 weight of the L2 penalty on the weights
 * @param groupLasso weight of the group-lasso penalty over the output channels of each layer
 * @param alpha with labels, the weight of the soft targets (see {@link Targets}); the rest goes to the labels
 * @param temperature softens the targets' outputs
 * @param threads PyTorch intra-op threads
 * @param pruneTo sparsity the weights are pruned to during training by {@link GradualPruning}; 0 prunes nothing
 * @param pruneSteps how many times the pruning masks grow on the way to {@code pruneTo}
 * @param pruneUntil share of the training steps by which {@code pruneTo} is reached
 * @param givenIsCandidate whether the weights as given compete with the trained epochs (fine-tuning: training never
 *     returns worse weights); regularisation trades accuracy for smaller weights, so only trained epochs compete
 */
record RetrainSettings(int epochs, double timeLimitSeconds, int batchSize, double learningRate, Schedule schedule,
        long seed, double holdout, int patience, double l1, double l2, double groupLasso, double alpha,
        double temperature, int threads, double pruneTo, int pruneSteps, double pruneUntil,
        boolean givenIsCandidate) {

    enum Schedule {
        CONSTANT,
        COSINE;

        /** The step size after {@code share} of the steps. */
        double at(double learningRate, double share) {
            return this == CONSTANT ? learningRate : learningRate * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, share)));
        }
    }

    RetrainSettings {
        Objects.requireNonNull(schedule, "schedule is null");
        if (epochs < 1 || timeLimitSeconds < 0 || batchSize < 1 || !(learningRate > 0) || !(holdout > 0 && holdout < 1)
                || patience < 0 || l1 < 0 || l2 < 0 || groupLasso < 0 || alpha < 0 || alpha > 1 || !(temperature > 0)
                || threads < 1 || !(pruneTo >= 0 && pruneTo < 1) || pruneSteps < 1
                || !(pruneUntil > 0 && pruneUntil <= 1)) {
            throw new IllegalArgumentException("invalid retraining settings: " + epochs + ", " + timeLimitSeconds + ", "
                    + batchSize + ", " + learningRate + ", " + holdout + ", " + patience + ", " + l1 + ", " + l2 + ", "
                    + groupLasso + ", " + alpha + ", " + temperature + ", " + threads + ", " + pruneTo + ", "
                    + pruneSteps + ", " + pruneUntil);
        }
    }
}

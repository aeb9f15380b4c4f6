package io.modelpress.plugins.distillation;

/**
 * How the student is trained.
 *
 * @param temperature softens both softmaxes of the distillation loss
 * @param alpha weight of the distillation loss; {@code 1 - alpha} goes to cross-entropy on labels
 * @param epochs most passes over the training part of the transfer set
 * @param batchSize rows per optimiser step
 * @param learningRate Adam's step size
 * @param seed seeds the split, the shuffles, the initial weights and the engine
 * @param holdout fraction of rows held out to measure agreement and stop early
 * @param patience epochs without a better held-out result before stopping; 0 never stops early
 * @param mixup mixtures of training rows added to them, as a multiple of the training rows; 0 adds none
 * @param threads PyTorch intra-op threads while training
 * @param l1 weight of the L1 penalty on the student's weights (not its biases)
 * @param l2 weight of the L2 penalty on the student's weights
 */
record TrainingSettings(double temperature, double alpha, int epochs, int batchSize, double learningRate, long seed,
        double holdout, int patience, double mixup, int threads, double l1, double l2) {

    TrainingSettings {
        if (!(temperature > 0) || alpha < 0 || alpha > 1 || epochs < 1 || batchSize < 1 || !(learningRate > 0)
                || !(holdout > 0 && holdout < 1) || patience < 0 || mixup < 0 || threads < 1 || l1 < 0 || l2 < 0) {
            throw new IllegalArgumentException("invalid training settings: " + temperature + ", " + alpha + ", "
                    + epochs + ", " + batchSize + ", " + learningRate + ", " + holdout + ", " + patience + ", " + mixup + ", "
                    + threads + ", " + l1 + ", " + l2);
        }
    }
}

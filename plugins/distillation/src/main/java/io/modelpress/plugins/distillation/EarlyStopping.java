package io.modelpress.plugins.distillation;

/**
 * Follows the held-out result epoch by epoch: keeps the best epoch (highest agreement with the
 * teacher, ties broken by the lower held-out loss) and says when to stop, after {@code patience}
 * epochs without a better one. A patience of 0 never stops.
 */
final class EarlyStopping {

    private final int patience;
    private int bestEpoch;
    private double bestAgreement = -1;
    private double bestLoss = Double.POSITIVE_INFINITY;

    EarlyStopping(int patience) {
        if (patience < 0) {
            throw new IllegalArgumentException("patience " + patience + " is negative");
        }
        this.patience = patience;
    }

    /** Records an epoch's held-out result; true when it is the best so far. */
    boolean record(int epoch, double agreement, double loss) {
        if (agreement > bestAgreement || agreement == bestAgreement && loss < bestLoss) {
            bestEpoch = epoch;
            bestAgreement = agreement;
            bestLoss = loss;
            return true;
        }
        return false;
    }

    /** Whether training should stop after {@code epoch}: too long without a better result. */
    boolean exhausted(int epoch) {
        return patience > 0 && epoch - bestEpoch >= patience;
    }

    int bestEpoch() {
        return bestEpoch;
    }

    double bestAgreement() {
        return bestAgreement;
    }

    double bestLoss() {
        return bestLoss;
    }
}

package io.modelpress.inference;

import java.util.OptionalDouble;

/**
 * How closely one output of a compressed model follows the original's, over all samples.
 *
 * @param output output name
 * @param meanCosine mean over samples of the cosine similarity of the flattened output (for an output
 *     of one value per sample, the cosine of all samples' values taken together)
 * @param minCosine worst sample's cosine
 * @param maxAbsError largest absolute difference of any element
 * @param meanAbsError mean absolute difference
 * @param relativeError ||compressed - original|| / ||original||, over all samples
 * @param top1Agreement for score outputs (last dim > 1): share of rows (for scores per position: of
 *     positions) whose arg-max agrees; empty otherwise
 * @param samples number of samples compared
 * @param sequenceAgreement for scores per position ({@code [batch, positions, classes]}): share of
 *     sequences whose greedy CTC decoding (repeats merged, blank 0 dropped) is exactly the original's
 * @param characterErrorRate for scores per position: edits from the original's decoded sequences to
 *     the compressed model's, per symbol of the original's
 */
public record OutputFidelity(String output, double meanCosine, double minCosine, double maxAbsError,
        double meanAbsError, double relativeError, OptionalDouble top1Agreement, int samples,
        OptionalDouble sequenceAgreement, OptionalDouble characterErrorRate) {

    public OutputFidelity(String output, double meanCosine, double minCosine, double maxAbsError, double meanAbsError,
            double relativeError, OptionalDouble top1Agreement, int samples) {
        this(output, meanCosine, minCosine, maxAbsError, meanAbsError, relativeError, top1Agreement, samples,
                OptionalDouble.empty(), OptionalDouble.empty());
    }
}

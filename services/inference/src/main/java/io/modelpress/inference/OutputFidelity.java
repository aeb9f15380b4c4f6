package io.modelpress.inference;

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
 * @param top1Agreement for score outputs (last dim > 1): share of rows whose arg-max agrees; empty otherwise
 * @param samples number of samples compared
 */
public record OutputFidelity(String output, double meanCosine, double minCosine, double maxAbsError,
        double meanAbsError, double relativeError, java.util.OptionalDouble top1Agreement, int samples) {
}

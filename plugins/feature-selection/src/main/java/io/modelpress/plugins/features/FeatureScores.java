package io.modelpress.plugins.features;

import io.modelpress.model.DataType;
import io.modelpress.model.Shapes;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.TensorData;
import java.util.Objects;

/**
 * How much each input feature matters to the first layer.
 *
 * <p>Without data, a feature's score is the norm of its weight row: what the layer's output moves
 * by per unit of the feature. With calibration data it is the measured effect of replacing the
 * feature by its mean: the root mean square, over the calibration rows, of the change of the
 * layer's output, ‖(x_j − mean_j)·W_j‖ = std_j · ‖W_j‖. That change is exact for the first layer,
 * and a feature that never varies in the data scores 0 however large its weights.
 *
 * @param weightNorms ‖W_j‖ per feature
 * @param means mean of each feature over the calibration rows, null without data
 * @param deviations standard deviation of each feature over the calibration rows, null without data
 * @param rows calibration rows seen, 0 without data
 */
record FeatureScores(double[] weightNorms, double[] means, double[] deviations, long rows) {

    FeatureScores {
        Objects.requireNonNull(weightNorms, "weightNorms is null");
    }

    boolean measured() {
        return means != null;
    }

    /** The score of every feature: the measured effect with data, the weight norm without. */
    double[] scores() {
        double[] scores = weightNorms.clone();
        if (measured()) {
            for (int j = 0; j < scores.length; j++) {
                scores[j] *= deviations[j];
            }
        }
        return scores;
    }

    /** Weight-row norms of an F × H matrix. */
    static double[] rowNorms(float[] matrix, int features, int hidden) {
        double[] norms = new double[features];
        for (int j = 0; j < features; j++) {
            double sum = 0;
            int base = j * hidden;
            for (int h = 0; h < hidden; h++) {
                double w = matrix[base + h];
                sum += w * w;
            }
            norms[j] = Math.sqrt(sum);
        }
        return norms;
    }

    static FeatureScores ofWeights(float[] matrix, int features, int hidden) {
        return new FeatureScores(rowNorms(matrix, features, hidden), null, null, 0);
    }

    /**
     * Scores with each feature's mean and deviation over every calibration row of {@code input}.
     *
     * @throws PluginException when the data lacks the input or gives it another shape
     */
    static FeatureScores ofData(float[] matrix, FeatureLayer layer, CalibrationData data) throws PluginException {
        int features = layer.features();
        double[] sum = new double[features];
        double[] squares = new double[features];
        long rows = 0;
        for (int s = 0; s < data.size(); s++) {
            float[] values = featureRows(data, s, layer);
            int count = values.length / features;
            for (int r = 0; r < count; r++) {
                int base = r * features;
                for (int j = 0; j < features; j++) {
                    double v = values[base + j];
                    sum[j] += v;
                    squares[j] += v * v;
                }
            }
            rows += count;
        }
        if (rows == 0) {
            throw new PluginException("the calibration data holds no rows of input '" + layer.input() + "'");
        }
        double[] means = new double[features];
        double[] deviations = new double[features];
        for (int j = 0; j < features; j++) {
            means[j] = sum[j] / rows;
            deviations[j] = Math.sqrt(Math.max(0, squares[j] / rows - means[j] * means[j]));
            if (deviations[j] < 1e-7 * Math.abs(means[j])) {
                deviations[j] = 0; // a constant feature: only rounding makes the variance differ from 0
            }
        }
        return new FeatureScores(rowNorms(matrix, features, layer.hidden()), means, deviations, rows);
    }

    /** Sample {@code index}'s values of the feature input, checked to be float32 [rows, F]. */
    static float[] featureRows(CalibrationData data, int index, FeatureLayer layer) throws PluginException {
        TensorData tensor = data.sample(index).get(layer.input());
        if (tensor == null) {
            throw new PluginException("the calibration data has no input '" + layer.input() + "' (it has "
                    + String.join(", ", data.inputNames()) + ")");
        }
        long[] shape = tensor.shape();
        if (tensor.type() != DataType.FLOAT || shape.length != 2 || shape[1] != layer.features()) {
            throw new PluginException("calibration sample " + index + " gives input '" + layer.input() + "' as "
                    + tensor.type().label() + " " + Shapes.format(shape) + ", not " + DataType.FLOAT.label() + " [N, "
                    + layer.features() + "]");
        }
        return tensor.toFloats();
    }
}

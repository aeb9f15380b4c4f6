package io.modelpress.inference;

import io.modelpress.model.ModelException;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.ModelRunner;
import io.modelpress.spi.TensorData;
import java.util.Map;

/**
 * Top-1 and top-5 accuracy of a classifier on labelled data: the scores are the model's first
 * floating-point output of shape [rows, classes], the labels one class id per row.
 *
 * @param output the output that was scored
 * @param top1 share of rows whose best class is the label
 * @param top5 share of rows whose label is among the five best classes
 * @param examples rows evaluated
 */
public record Accuracy(String output, double top1, double top5, long examples) {

    public static Accuracy evaluate(ModelRunner runner, CalibrationData data) {
        long examples = 0;
        long top1 = 0;
        long top5 = 0;
        String scored = null;
        for (int s = 0; s < data.size(); s++) {
            TensorData labels = data.labels(s).orElseThrow(() ->
                    new ModelException("evaluation data has no labels: add an integer 'labels' array"));
            Map<String, TensorData> outputs = runner.run(data.sample(s));
            Map.Entry<String, TensorData> scores = scoreOutput(outputs);
            scored = scores.getKey();
            float[] values = Fidelity.toFloatArray(scores.getValue());
            long[] shape = scores.getValue().shape();
            int classes = (int) shape[shape.length - 1];
            int rows = values.length / classes;
            if (labels.elementCount() != rows) {
                throw new ModelException("evaluation sample " + s + " has " + labels.elementCount() + " labels but output '"
                        + scored + "' scores " + rows + " rows");
            }
            for (int row = 0; row < rows; row++) {
                long label = labels.data().getLong(row * 8);
                if (label < 0 || label >= classes) {
                    throw new ModelException("evaluation label " + label + " (sample " + s + ", row " + row
                            + ") is not a class of output '" + scored + "', which scores " + classes + " classes");
                }
                int rank = rank(values, row * classes, classes, (int) label);
                top1 += rank == 0 ? 1 : 0;
                top5 += rank < 5 ? 1 : 0;
            }
            examples += rows;
        }
        if (examples == 0) {
            throw new ModelException("evaluation data holds no examples");
        }
        return new Accuracy(scored, (double) top1 / examples, (double) top5 / examples, examples);
    }

    private static Map.Entry<String, TensorData> scoreOutput(Map<String, TensorData> outputs) {
        for (Map.Entry<String, TensorData> output : outputs.entrySet()) {
            long[] shape = output.getValue().shape();
            if (output.getValue().type().isFloatingPoint() && shape.length >= 2 && shape[shape.length - 1] > 1) {
                return output;
            }
        }
        throw new ModelException("the model has no output of class scores (a float output of shape [rows, classes]); "
                + "accuracy needs one");
    }

    /** How many classes score strictly higher than the label's class. */
    private static int rank(float[] values, int from, int count, int label) {
        float score = values[from + label];
        int higher = 0;
        for (int c = 0; c < count; c++) {
            if (values[from + c] > score) {
                higher++;
            }
        }
        return higher;
    }
}

package io.modelpress.plugins.distillation;

import io.modelpress.spi.ModelRunner;
import io.modelpress.spi.PluginException;

/**
 * Measures the exported student, as ONNX Runtime runs it, on the held-out rows: how often its top
 * class is the teacher's, and the accuracy of both on the rows that have labels. Retraining measures
 * its input and its trained model this way, the targets' model as the teacher.
 *
 * @param rows held-out rows measured
 * @param agreement share of rows whose top class matches the teacher's
 * @param labelled measured rows with a label
 * @param teacherAccuracy the teacher's top-1 accuracy on them (NaN without labels)
 * @param studentAccuracy the student's top-1 accuracy on them (NaN without labels)
 */
record HeldOutCheck(int rows, double agreement, int labelled, double teacherAccuracy, double studentAccuracy) {

    static HeldOutCheck measure(Teacher teacher, TransferSet data, int[] holdout, ModelRunner student)
            throws PluginException {
        int classes = data.classes();
        int width = data.rowSize();
        float[] inputs = new float[holdout.length * width];
        for (int i = 0; i < holdout.length; i++) {
            System.arraycopy(data.inputs(), holdout[i] * width, inputs, i * width, width);
        }
        float[] scores = new BatchRunner(teacher, student, data.rowShape(), classes).scores(inputs, holdout.length);
        int agreed = 0;
        int labelled = 0;
        int teacherRight = 0;
        int studentRight = 0;
        for (int i = 0; i < holdout.length; i++) {
            int row = holdout[i];
            int studentTop = StudentTrainer.argMax(scores, i * classes, classes);
            int teacherTop = StudentTrainer.argMax(data.teacherLogits(), row * classes, classes);
            agreed += studentTop == teacherTop ? 1 : 0;
            int label = data.labels()[row];
            if (label >= 0) {
                labelled++;
                teacherRight += teacherTop == label ? 1 : 0;
                studentRight += studentTop == label ? 1 : 0;
            }
        }
        return new HeldOutCheck(holdout.length, (double) agreed / holdout.length, labelled,
                labelled == 0 ? Double.NaN : (double) teacherRight / labelled,
                labelled == 0 ? Double.NaN : (double) studentRight / labelled);
    }
}

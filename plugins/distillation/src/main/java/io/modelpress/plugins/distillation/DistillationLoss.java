package io.modelpress.plugins.distillation;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.loss.Loss;

/**
 * Hinton et al.'s distillation loss: {@code alpha · T² · KL(softmax(teacher/T) ‖ softmax(student/T))}
 * plus {@code (1 - alpha) ·} cross-entropy on the labelled rows. T² keeps the soft term's gradients
 * on the scale of the hard term's whatever the temperature.
 *
 * <p>Labels come as {@code [soft targets, their logs, one-hot labels]}, each {@code [batch, classes]};
 * an unlabelled row has an all-zero one-hot row and adds nothing to the cross-entropy.
 */
final class DistillationLoss extends Loss {

    private final float temperature;
    private final float alpha;

    DistillationLoss(double temperature, double alpha) {
        super("distillation");
        this.temperature = (float) temperature;
        this.alpha = (float) alpha;
    }

    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        NDArray logits = predictions.singletonOrThrow();
        NDArray soft = labels.get(0);
        NDArray logSoft = labels.get(1);
        NDArray oneHot = labels.get(2);
        NDArray studentLogSoft = logits.div(temperature).logSoftmax(1);
        NDArray kl = soft.mul(logSoft.sub(studentLogSoft)).sum(new int[] {1}).mean();
        NDArray loss = kl.mul(alpha * temperature * temperature);
        if (alpha < 1) {
            NDArray crossEntropy = oneHot.mul(logits.logSoftmax(1)).sum().neg();
            NDArray labelled = oneHot.sum().maximum(1f);
            loss = loss.add(crossEntropy.div(labelled).mul(1 - alpha));
        }
        return loss;
    }
}

package io.modelpress.spi;

import java.util.List;
import java.util.Map;

/**
 * Representative inputs of a model: samples of named input tensors, as a request supplies them.
 * Quantizers calibrate ranges on it, pruning and distillation measure their effect on it.
 */
public interface CalibrationData {

    /** Names of the model inputs each sample provides. */
    List<String> inputNames();

    /** Number of samples. */
    int size();

    /** Sample {@code index} (0-based): one tensor per input name. */
    Map<String, TensorData> sample(int index);
}

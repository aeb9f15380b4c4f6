package io.modelpress.spi;

import java.util.List;
import java.util.Map;
import java.util.Optional;

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

    /**
     * The labels of sample {@code index} when the data is labelled: int64 class ids, one per row
     * of the sample's batch. Empty for unlabelled data.
     */
    default Optional<TensorData> labels(int index) {
        return Optional.empty();
    }

    /** Unlabelled samples held in memory; every sample must name the same inputs. */
    static CalibrationData of(List<Map<String, TensorData>> samples) {
        return of(samples, List.of());
    }

    /**
     * Samples held in memory with their labels ({@code labels} empty, or one int64 tensor per
     * sample); every sample must name the same inputs.
     */
    static CalibrationData of(List<Map<String, TensorData>> samples, List<TensorData> labels) {
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("calibration data needs at least one sample");
        }
        List<Map<String, TensorData>> copy = samples.stream().map(Map::copyOf).toList();
        List<String> names = List.copyOf(samples.get(0).keySet());
        for (int i = 1; i < copy.size(); i++) {
            if (!copy.get(i).keySet().equals(copy.get(0).keySet())) {
                throw new IllegalArgumentException("sample " + i + " names inputs " + copy.get(i).keySet()
                        + " but sample 0 names " + names);
            }
        }
        if (!labels.isEmpty() && labels.size() != copy.size()) {
            throw new IllegalArgumentException(labels.size() + " label tensors for " + copy.size() + " samples");
        }
        List<TensorData> labelCopy = List.copyOf(labels);
        return new CalibrationData() {
            @Override
            public List<String> inputNames() {
                return names;
            }

            @Override
            public int size() {
                return copy.size();
            }

            @Override
            public Map<String, TensorData> sample(int index) {
                return copy.get(index);
            }

            @Override
            public Optional<TensorData> labels(int index) {
                return labelCopy.isEmpty() ? Optional.empty() : Optional.of(labelCopy.get(index));
            }
        };
    }
}

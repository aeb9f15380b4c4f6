package io.modelpress.engine.data;

import io.modelpress.engine.EngineException;
import io.modelpress.model.ModelSummary;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.TensorData;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/** Checks that data fits a model's inputs before anything runs on it: names, types, ranks and fixed dims. */
public final class InputCheck {

    private InputCheck() {
    }

    /**
     * @param what how the data is called in messages, e.g. "calibration data"
     * @throws EngineException naming the input and what the model declares
     */
    public static void check(OnnxModel model, CalibrationData data, String what) {
        List<ModelSummary.Value> inputs = model.summary().inputs();
        Set<String> declared = inputs.stream().map(ModelSummary.Value::name).collect(Collectors.toCollection(TreeSet::new));
        Set<String> given = new TreeSet<>(data.inputNames());
        if (!declared.equals(given)) {
            throw new EngineException(what + " names inputs " + given + " but the model's inputs are " + declared);
        }
        for (int s = 0; s < data.size(); s++) {
            Map<String, TensorData> sample = data.sample(s);
            for (ModelSummary.Value input : inputs) {
                checkOne(input, sample.get(input.name()), what, s);
            }
        }
    }

    private static void checkOne(ModelSummary.Value input, TensorData value, String what, int sample) {
        String where = what + " sample " + sample + ", input '" + input.name() + "'";
        if (!value.type().label().equals(input.type())) {
            throw new EngineException(where + ": " + value.type().label() + " values, but the model takes " + input.type());
        }
        long[] shape = value.shape();
        List<String> dims = input.shape();
        if (!dims.isEmpty() && dims.size() != shape.length) {
            throw new EngineException(where + ": shape " + java.util.Arrays.toString(shape) + " but the model declares "
                    + dims);
        }
        for (int d = 0; d < dims.size(); d++) {
            String dim = dims.get(d);
            if (dim.chars().allMatch(Character::isDigit) && Long.parseLong(dim) != shape[d]) {
                throw new EngineException(where + ": shape " + java.util.Arrays.toString(shape)
                        + " but the model declares " + dims);
            }
        }
    }
}

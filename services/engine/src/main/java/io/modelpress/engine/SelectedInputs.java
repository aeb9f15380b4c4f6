package io.modelpress.engine;

import io.modelpress.inference.OrtRunner;
import io.modelpress.spi.ModelRunner;
import io.modelpress.spi.SelectedFeatures;
import io.modelpress.spi.TensorData;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A compressed model whose inputs were narrowed by feature selection takes only the kept
 * features; to compare it with its original on the same data, each sample is cut to match, as the
 * model's metadata says. Other models run unchanged.
 */
final class SelectedInputs implements ModelRunner {

    private final ModelRunner runner;
    private final Map<String, SelectedFeatures> selections;

    private SelectedInputs(ModelRunner runner, Map<String, SelectedFeatures> selections) {
        this.runner = runner;
        this.selections = selections;
    }

    static ModelRunner adapt(OrtRunner runner) {
        List<SelectedFeatures> selected = SelectedFeatures.fromMetadata(runner.metadata());
        if (selected.isEmpty()) {
            return runner;
        }
        Map<String, SelectedFeatures> byInput = new LinkedHashMap<>();
        selected.forEach(selection -> byInput.put(selection.input(), selection));
        return new SelectedInputs(runner, byInput);
    }

    @Override
    public List<String> inputNames() {
        return runner.inputNames();
    }

    @Override
    public List<String> outputNames() {
        return runner.outputNames();
    }

    @Override
    public Map<String, TensorData> run(Map<String, TensorData> inputs) {
        Map<String, TensorData> cut = new LinkedHashMap<>();
        inputs.forEach((name, tensor) -> {
            SelectedFeatures selection = selections.get(name);
            cut.put(name, selection == null ? tensor : selection.slice(tensor));
        });
        return runner.run(cut);
    }

    @Override
    public void close() {
        runner.close();
    }
}

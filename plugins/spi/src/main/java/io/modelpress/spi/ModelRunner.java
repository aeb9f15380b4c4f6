package io.modelpress.spi;

import java.util.List;
import java.util.Map;

/**
 * An inference session on a model, opened through {@link PluginContext#runner}. The host runs it
 * in ONNX Runtime, so plugins measure effects without depending on a runtime themselves.
 */
public interface ModelRunner extends AutoCloseable {

    List<String> inputNames();

    List<String> outputNames();

    /**
     * Runs the model on one set of inputs.
     *
     * @return every output by name
     */
    Map<String, TensorData> run(Map<String, TensorData> inputs);

    @Override
    void close();
}

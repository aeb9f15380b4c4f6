package io.modelpress.inference;

import io.modelpress.model.DataType;
import java.util.List;

/**
 * A model input as ONNX Runtime declares it.
 *
 * @param name input name
 * @param type element type
 * @param shape dims, -1 where symbolic
 * @param dimNames symbolic names, empty where fixed or unnamed
 */
public record InputSpec(String name, DataType type, long[] shape, List<String> dimNames) {

    public InputSpec {
        shape = shape.clone();
        dimNames = List.copyOf(dimNames);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }
}

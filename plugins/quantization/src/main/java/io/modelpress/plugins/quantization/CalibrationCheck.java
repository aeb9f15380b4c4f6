package io.modelpress.plugins.quantization;

import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.modelpress.model.DataType;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Shapes;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.TensorData;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Checks calibration samples against the inputs the model declares, before any run. */
final class CalibrationCheck {

    private CalibrationCheck() {
    }

    static void check(OnnxModel model, CalibrationData data) throws PluginException {
        Set<String> initializers = new HashSet<>();
        model.proto().getGraph().getInitializerList().forEach(t -> initializers.add(t.getName()));
        Map<String, ValueInfoProto> inputs = new LinkedHashMap<>();
        for (ValueInfoProto input : model.proto().getGraph().getInputList()) {
            if (!initializers.contains(input.getName())) {
                inputs.put(input.getName(), input);
            }
        }
        for (String name : inputs.keySet()) {
            if (!data.inputNames().contains(name)) {
                throw new PluginException("calibration data has no values for model input '" + name + "'; it names "
                        + data.inputNames() + " and the model takes " + List.copyOf(inputs.keySet()));
            }
        }
        for (String name : data.inputNames()) {
            if (!inputs.containsKey(name)) {
                throw new PluginException("calibration data names input '" + name + "', which the model does not take; it takes "
                        + List.copyOf(inputs.keySet()));
            }
        }
        for (int s = 0; s < data.size(); s++) {
            for (Map.Entry<String, TensorData> entry : data.sample(s).entrySet()) {
                checkTensor(s, inputs.get(entry.getKey()), entry.getValue());
            }
        }
    }

    private static void checkTensor(int sample, ValueInfoProto input, TensorData tensor) throws PluginException {
        if (!input.getType().hasTensorType()) {
            return;
        }
        int elemType = input.getType().getTensorType().getElemType();
        if (elemType != 0 && elemType != tensor.type().code()) {
            throw new PluginException("calibration sample " + sample + " gives input '" + input.getName() + "' as "
                    + tensor.type().label() + " but the model declares " + DataType.of(elemType).label());
        }
        if (!input.getType().getTensorType().hasShape()) {
            return;
        }
        List<TensorShapeProto.Dimension> dims = input.getType().getTensorType().getShape().getDimList();
        long[] shape = tensor.shape();
        boolean matches = dims.size() == shape.length;
        for (int d = 0; matches && d < shape.length; d++) {
            matches = !dims.get(d).hasDimValue() || dims.get(d).getDimValue() == shape[d];
        }
        if (!matches) {
            StringBuilder declared = new StringBuilder("[");
            for (int d = 0; d < dims.size(); d++) {
                declared.append(d > 0 ? "," : "").append(dims.get(d).hasDimValue() ? Long.toString(dims.get(d).getDimValue())
                        : dims.get(d).getDimParam().isEmpty() ? "?" : dims.get(d).getDimParam());
            }
            throw new PluginException("calibration sample " + sample + " gives input '" + input.getName() + "' the shape "
                    + Shapes.format(shape) + " but the model declares " + declared.append(']'));
        }
    }
}

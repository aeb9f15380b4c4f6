package io.modelpress.plugins.quantization;

import io.modelpress.model.DataType;
import io.modelpress.model.Graphs;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Weight;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/** Recognises a model that is quantized already, so that nothing is quantized twice. */
final class AlreadyQuantized {

    private static final Set<String> QUANTIZED_OPS = Set.of("QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear",
            "MatMulInteger", "ConvInteger", "MatMulNBits", "DynamicQuantizeMatMul", "MatMulIntegerToFloat", "QGemm",
            "QAttention", "DynamicQuantizeLSTM", "GatherBlockQuantized", "MatMulBnb4", "QOrderedMatMul");

    private AlreadyQuantized() {
    }

    /** What shows the model is quantized, or empty. */
    static Optional<String> evidence(OnnxModel model) {
        AtomicReference<String> found = new AtomicReference<>();
        Graphs.forEach(model.proto(), (path, graph) -> graph.getNodeList().forEach(node -> {
            if (found.get() == null && (QUANTIZED_OPS.contains(node.getOpType()) || node.getOpType().startsWith("QLinear"))) {
                found.set("it has " + node.getOpType() + " node" + (node.getName().isEmpty() ? "" : " '" + node.getName() + "'")
                        + (path.isMain() ? "" : " in " + path));
            }
        }));
        if (found.get() != null) {
            return Optional.of(found.get());
        }
        for (Weight weight : model.weights().all()) {
            DataType type = weight.type();
            boolean integer = type == DataType.INT8 || type == DataType.UINT8 || type == DataType.INT4 || type == DataType.UINT4;
            if (integer && weight.elements() >= 1024) {
                return Optional.of("weight '" + weight.ref() + "' is " + type.label() + " already");
            }
        }
        return Optional.empty();
    }
}

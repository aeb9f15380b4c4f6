package io.modelpress.model;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.HashSet;
import java.util.Set;

/**
 * Value names that are free in every graph of a model. New tensors and intermediate values get
 * names no graph uses, so they can never shadow or be shadowed by a subgraph's own values.
 */
public final class ValueNames {

    private final Set<String> taken = new HashSet<>();

    private ValueNames() {
    }

    public static ValueNames of(ModelProto model) {
        ValueNames names = new ValueNames();
        Graphs.forEach(model, (path, graph) -> {
            graph.getInputList().stream().map(ValueInfoProto::getName).forEach(names.taken::add);
            graph.getOutputList().stream().map(ValueInfoProto::getName).forEach(names.taken::add);
            graph.getValueInfoList().stream().map(ValueInfoProto::getName).forEach(names.taken::add);
            graph.getInitializerList().stream().map(TensorProto::getName).forEach(names.taken::add);
            for (NodeProto node : graph.getNodeList()) {
                names.taken.addAll(node.getInputList());
                names.taken.addAll(node.getOutputList());
            }
        });
        return names;
    }

    /** {@code base} if free, otherwise {@code base_2}, {@code base_3}, ...; the name is then taken. */
    public String fresh(String base) {
        if (taken.add(base)) {
            return base;
        }
        for (int i = 2; ; i++) {
            String candidate = base + "_" + i;
            if (taken.add(candidate)) {
                return candidate;
            }
        }
    }
}

package io.modelpress.plugins.fp16;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.modelpress.model.DataType;
import io.modelpress.model.GraphPath;
import io.modelpress.model.Graphs;
import io.modelpress.model.Nodes;
import io.modelpress.model.Tensors;
import io.modelpress.plugins.fp16.ConversionPlan.Mode;
import io.modelpress.plugins.fp16.ModelAnalysis.GraphInfo;
import io.modelpress.plugins.fp16.ModelAnalysis.NodeInfo;
import io.modelpress.plugins.fp16.ModelAnalysis.ValueKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Applies a {@link ConversionPlan} to every graph: Casts where a value's type is not the one its
 * reader wants, Cast and ConstantOfShape attributes of converted nodes, and the declared types of
 * graph inputs, outputs and value_info, so that type inference in ONNX Runtime agrees with the graph.
 */
final class GraphRewriter {

    private record CastKey(ValueKey value, DataType type) {
    }

    private final ModelAnalysis analysis;
    private final ConversionPlan plan;
    private final Set<String> taken;
    /** Main-graph outputs whose producer writes a differently named value; the output itself is then a Cast. */
    private final Map<ValueKey, String> renamed = new HashMap<>();
    private int casts;
    private int valueInfosUpdated;

    GraphRewriter(ModelAnalysis analysis, ConversionPlan plan) {
        this.analysis = analysis;
        this.plan = plan;
        this.taken = new HashSet<>(analysis.names());
        GraphInfo main = analysis.graph(GraphPath.MAIN);
        for (int o = 0; o < main.outputs().size(); o++) {
            ValueKey key = main.outputs().get(o);
            Optional<DataType> wanted = plan.wantedOutput(main, o);
            if (wanted.isPresent() && wanted.get() != plan.finalType(key) && !renamed.containsKey(key)) {
                renamed.put(key, fresh(key.name() + "/" + plan.type().option()));
            }
        }
    }

    ModelProto rewrite(ModelProto model) {
        return Graphs.rewrite(model, this::rewriteGraph);
    }

    int castsInserted() {
        return casts;
    }

    int valueInfosUpdated() {
        return valueInfosUpdated;
    }

    private GraphProto rewriteGraph(GraphPath path, GraphProto graph) {
        GraphInfo info = analysis.graph(path);
        Map<CastKey, String> available = new HashMap<>();
        List<NodeProto> nodes = new ArrayList<>(graph.getNodeCount() + 8);
        for (int n = 0; n < graph.getNodeCount(); n++) {
            NodeInfo node = info.nodes().get(n);
            NodeProto.Builder builder = graph.getNode(n).toBuilder();
            for (int i = 0; i < node.inputs.size(); i++) {
                ValueKey key = node.inputs.get(i);
                if (key != null) {
                    builder.setInput(i, read(key, plan.wanted(node, i), available, nodes));
                }
            }
            if (plan.mode(node) == Mode.HALF) {
                halveAttributes(builder);
            }
            List<ValueKey> renamedHere = new ArrayList<>();
            for (int o = 0; o < node.outputs.size(); o++) {
                ValueKey key = node.outputs.get(o);
                if (key != null && renamed.containsKey(key)) {
                    builder.setOutput(o, renamed.get(key));
                    renamedHere.add(key);
                }
            }
            nodes.add(builder.build());
            for (ValueKey key : renamedHere) {
                DataType wanted = outputType(analysis.graph(GraphPath.MAIN), key);
                nodes.add(cast(renamed.get(key), key.name(), wanted, key.name()));
                available.put(new CastKey(key, wanted), key.name());
            }
        }
        GraphProto.Builder builder = graph.toBuilder().clearNode();
        List<ValueInfoProto> outputs = new ArrayList<>();
        for (int o = 0; o < graph.getOutputCount(); o++) {
            ValueInfoProto output = graph.getOutput(o);
            ValueKey key = info.outputs().get(o);
            Optional<DataType> wanted = plan.wantedOutput(info, o);
            if (key != null && info.owner() != null) {
                output = output.toBuilder().setName(read(key, wanted, available, nodes)).build();
            }
            // an input passed straight through to the output has no wish of its own: it keeps its final type
            Optional<DataType> declared = wanted.isPresent() || key == null || !analysis.isFloat(key)
                    ? wanted : Optional.of(plan.finalType(key));
            outputs.add(declared.isPresent() ? retype(output, declared.get()) : output);
        }
        builder.addAllNode(nodes).clearOutput().addAllOutput(outputs);
        for (int i = 0; i < graph.getInputCount(); i++) {
            ValueKey key = info.inputs().get(i);
            if (plan.becomesHalf(key)) {
                builder.setInput(i, retype(graph.getInput(i), plan.type().dataType()));
            }
        }
        for (int v = 0; v < graph.getValueInfoCount(); v++) {
            ValueKey key = new ValueKey(path, graph.getValueInfo(v).getName());
            // a renamed output's own name now holds the Cast to the type the output must have
            DataType now = renamed.containsKey(key) ? outputType(analysis.graph(GraphPath.MAIN), key)
                    : plan.finalType(key);
            if (analysis.isFloat(key) && now != DataType.FLOAT) {
                builder.setValueInfo(v, retype(graph.getValueInfo(v), now));
                valueInfosUpdated++;
            }
        }
        return builder.build();
    }

    /** The name that holds {@code key} in the wanted type, adding a Cast before the reader when needed. */
    private String read(ValueKey key, Optional<DataType> wanted, Map<CastKey, String> available, List<NodeProto> nodes) {
        String name = renamed.getOrDefault(key, key.name());
        if (wanted.isEmpty() || wanted.get() == plan.finalType(key)) {
            return name;
        }
        CastKey castKey = new CastKey(key, wanted.get());
        String existing = available.get(castKey);
        if (existing != null) {
            return existing;
        }
        String suffix = wanted.get() == DataType.FLOAT ? "fp32" : plan.type().option();
        String castName = fresh(key.name() + "/" + suffix);
        nodes.add(cast(name, castName, wanted.get(), key.name()));
        available.put(castKey, castName);
        return castName;
    }

    private DataType outputType(GraphInfo main, ValueKey key) {
        int index = main.outputs().indexOf(key);
        return plan.wantedOutput(main, index).orElse(plan.finalType(key));
    }

    private NodeProto cast(String from, String to, DataType type, String about) {
        casts++;
        String label = type == DataType.FLOAT ? "fp32" : plan.type().option();
        return Nodes.node("Cast", fresh(about + "/cast_to_" + label), List.of(from), List.of(to),
                Nodes.attr("to", (long) type.code()));
    }

    /** Attributes that carry the output type of a node now computing in half. */
    private void halveAttributes(NodeProto.Builder node) {
        DataType half = plan.type().dataType();
        switch (node.getOpType()) {
            case "Cast" -> {
                for (int a = 0; a < node.getAttributeCount(); a++) {
                    AttributeProto attribute = node.getAttribute(a);
                    if (attribute.getName().equals("to") && attribute.getI() == DataType.FLOAT.code()) {
                        node.setAttribute(a, attribute.toBuilder().setI(half.code()));
                    }
                }
            }
            case "ConstantOfShape" -> {
                int index = -1;
                for (int a = 0; a < node.getAttributeCount(); a++) {
                    if (node.getAttribute(a).getName().equals("value")) {
                        index = a;
                    }
                }
                if (index < 0) { // the default is a float32 zero
                    node.addAttribute(Nodes.attr("value", plan.type().tensor("", new long[] {1}, new float[1])));
                } else if (node.getAttribute(index).getT().getDataType() == DataType.FLOAT.code()) {
                    TensorProto value = node.getAttribute(index).getT();
                    TensorProto halved = plan.type().tensor(value.getName(), Tensors.dims(value), Tensors.toFloats(value));
                    node.setAttribute(index, node.getAttribute(index).toBuilder().setT(halved));
                }
            }
            default -> {
            }
        }
    }

    private static ValueInfoProto retype(ValueInfoProto info, DataType type) {
        if (!info.hasType() || !info.getType().hasTensorType()) {
            return info;
        }
        ValueInfoProto.Builder builder = info.toBuilder();
        builder.getTypeBuilder().getTensorTypeBuilder().setElemType(type.code());
        return builder.build();
    }

    private String fresh(String base) {
        String name = base;
        for (int i = 1; !taken.add(name); i++) {
            name = base + "_" + i;
        }
        return name;
    }
}

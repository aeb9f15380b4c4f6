package io.modelpress.model;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a model is: format versions, operators, parameters and where its bytes go, inputs and
 * outputs. Counts include subgraphs.
 *
 * @param irVersion ONNX IR version
 * @param opsets operator set version by domain ("" is the default ONNX domain, shown as "ai.onnx")
 * @param producer producer name and version, as the exporter wrote it
 * @param inputs graph inputs that are not initializers
 * @param outputs graph outputs
 * @param operators node count by operator type (domain-qualified outside the default domain), most frequent first
 * @param nodes total nodes, subgraphs included
 * @param subgraphs number of subgraphs (If branches, Loop and Scan bodies)
 * @param parameters total weight values: elements, except that a byte packing several low-bit values
 *        (the weight of a 4-bit MatMulNBits) counts as the values it holds, so quantizing never reads as
 *        if it removed parameters
 * @param weightBytes total weight bytes
 * @param byType parameters and bytes by element type (the type the values are stored in)
 * @param weights every weight, largest first
 */
public record ModelSummary(long irVersion, Map<String, Long> opsets, String producer, List<Value> inputs,
        List<Value> outputs, Map<String, Integer> operators, int nodes, int subgraphs, long parameters,
        long weightBytes, Map<String, TypeTotal> byType, List<WeightEntry> weights) {

    /** A graph input or output: name, element type and shape with symbolic dims by name ("?" when unnamed). */
    public record Value(String name, String type, List<String> shape) {
    }

    public record TypeTotal(long tensors, long parameters, long bytes) {
    }

    public record WeightEntry(String name, String graph, String storage, String type, List<Long> dims, long parameters,
            long bytes) {
    }

    public static ModelSummary of(OnnxModel model) {
        ModelProto proto = model.proto();
        Map<String, Long> opsets = new TreeMap<>();
        for (OperatorSetIdProto opset : proto.getOpsetImportList()) {
            opsets.put(opset.getDomain().isEmpty() ? "ai.onnx" : opset.getDomain(), opset.getVersion());
        }
        Map<String, Integer> operatorCounts = new TreeMap<>();
        int[] nodes = {0};
        int[] graphs = {0};
        Graphs.forEach(proto, (path, graph) -> {
            graphs[0]++;
            for (NodeProto node : graph.getNodeList()) {
                nodes[0]++;
                String op = node.getDomain().isEmpty() || node.getDomain().equals("ai.onnx")
                        ? node.getOpType() : node.getDomain() + "." + node.getOpType();
                operatorCounts.merge(op, 1, Integer::sum);
            }
        });
        Map<String, Integer> operators = new LinkedHashMap<>();
        operatorCounts.entrySet().stream()
                .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                .forEachOrdered(e -> operators.put(e.getKey(), e.getValue()));

        Map<String, Long> packed = packedWeights(proto);
        WeightIndex index = model.weights();
        Map<String, TypeTotal> byType = new TreeMap<>();
        List<WeightEntry> entries = new ArrayList<>();
        long parameters = 0;
        for (Weight weight : index.all()) {
            long values = weight.type() == DataType.UINT8 && packed.containsKey(weight.name())
                    ? weight.elements() * (8 / packed.get(weight.name())) : weight.elements();
            parameters += values;
            byType.merge(weight.type().label(), new TypeTotal(1, values, weight.bytes()),
                    (a, b) -> new TypeTotal(a.tensors() + b.tensors(), a.parameters() + b.parameters(), a.bytes() + b.bytes()));
            List<Long> dims = new ArrayList<>();
            for (long dim : weight.dims()) {
                dims.add(dim);
            }
            entries.add(new WeightEntry(weight.name(), weight.ref().graph().toString(),
                    weight.storage().name().toLowerCase(java.util.Locale.ROOT), weight.type().label(), dims,
                    values, weight.bytes()));
        }
        entries.sort(Comparator.comparingLong(WeightEntry::bytes).reversed());

        java.util.Set<String> initializers = new java.util.HashSet<>();
        proto.getGraph().getInitializerList().forEach(t -> initializers.add(t.getName()));
        List<Value> inputs = proto.getGraph().getInputList().stream()
                .filter(input -> !initializers.contains(input.getName()))
                .map(ModelSummary::value).toList();
        List<Value> outputs = proto.getGraph().getOutputList().stream().map(ModelSummary::value).toList();
        String producer = (proto.getProducerName() + " " + proto.getProducerVersion()).trim();
        return new ModelSummary(proto.getIrVersion(), opsets, producer, inputs, outputs, operators, nodes[0],
                graphs[0] - 1, parameters, index.totalBytes(), byType, entries);
    }

    /**
     * Weights stored as bytes that each pack several low-bit values, by name, with the bits per value:
     * the B input of ONNX Runtime's MatMulNBits and the data input of its GatherBlockQuantized
     * (attribute {@code bits}, 4 unless said otherwise) when they are uint8.
     */
    private static Map<String, Long> packedWeights(ModelProto proto) {
        Map<String, Long> packed = new java.util.HashMap<>();
        Graphs.forEach(proto, (path, graph) -> {
            for (NodeProto node : graph.getNodeList()) {
                if (!node.getDomain().equals("com.microsoft")) {
                    continue;
                }
                int input = switch (node.getOpType()) {
                    case "MatMulNBits" -> 1;
                    case "GatherBlockQuantized" -> 0;
                    default -> -1;
                };
                long bits = Nodes.intAttribute(node, "bits", 4);
                if (input >= 0 && node.getInputCount() > input && bits > 0 && bits < 8 && 8 % bits == 0) {
                    packed.put(node.getInput(input), bits);
                }
            }
        });
        return packed;
    }

    static Value value(ValueInfoProto info) {
        TypeProto type = info.getType();
        if (!type.hasTensorType()) {
            return new Value(info.getName(), type.getValueCase().name().toLowerCase(java.util.Locale.ROOT), List.of());
        }
        TypeProto.Tensor tensor = type.getTensorType();
        String elementType;
        try {
            elementType = DataType.of(tensor.getElemType()).label();
        } catch (ModelException e) {
            elementType = "type " + tensor.getElemType();
        }
        List<String> shape = new ArrayList<>();
        if (tensor.hasShape()) {
            for (TensorShapeProto.Dimension dim : tensor.getShape().getDimList()) {
                shape.add(dim.hasDimValue() ? Long.toString(dim.getDimValue())
                        : dim.hasDimParam() && !dim.getDimParam().isEmpty() ? dim.getDimParam() : "?");
            }
        }
        return new Value(info.getName(), elementType, shape);
    }
}

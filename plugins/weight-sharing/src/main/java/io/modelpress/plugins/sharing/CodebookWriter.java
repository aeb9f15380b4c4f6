package io.modelpress.plugins.sharing;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.model.DataType;
import io.modelpress.model.GraphPath;
import io.modelpress.model.Graphs;
import io.modelpress.model.Nodes;
import io.modelpress.model.Tensors;
import io.modelpress.model.ValueNames;
import io.modelpress.model.Weight;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Writes clustered weights in a form every ONNX Runtime executes: uint8 indices, Cast to int32,
 * Gather from the codebook. The Gather's output takes the weight's name, so every reader of the
 * weight (in its graph or in subgraphs) reads the decoded tensor unchanged.
 *
 * <p>With at most 4 bits, several indices can share a byte: a byte holds {@code per} indices
 * (per · bits ≤ 8) as one number in base k (k ≤ 2^bits, so k^per ≤ 256), and the Gather reads
 * from a table of all k^per tuples of codebook values ([k^per, per]); a Reshape restores the
 * weight's shape. The form with the fewest bytes is taken, one index per byte included: the
 * tuple table (up to 256 × 4 values) only pays on larger weights.
 */
final class CodebookWriter {

    /** ONNX TensorProto.DataType code of int32, for Cast's {@code to}. */
    private static final long INT32 = 6;

    /**
     * How one weight is stored after clustering.
     *
     * @param layer the weight
     * @param tensors the tensors that replace it, named
     * @param nodes the nodes that decode them into a tensor with the weight's name
     * @param bytes bytes of the new tensors' values
     * @param perByte indices per byte (1 when not packed)
     */
    record Encoding(SharedLayer layer, List<TensorProto> tensors, List<NodeProto> nodes, long bytes, int perByte) {
        Encoding {
            Objects.requireNonNull(layer, "layer is null");
            tensors = List.copyOf(tensors);
            nodes = List.copyOf(nodes);
        }
    }

    private CodebookWriter() {
    }

    /** Bytes of the index table form (1 index per byte). */
    static long plainBytes(long elements, int codebookSize, DataType type) {
        return elements + type.byteSize(codebookSize);
    }

    /** Bytes of the form with {@code per} indices in a byte, or -1 when it does not apply. */
    static long packedBytes(long elements, int rank, int codebookSize, int per, DataType type) {
        if (per < 2 || elements % per != 0 || pow(codebookSize, per) > 256) {
            return -1;
        }
        long tuples = pow(codebookSize, per);
        return elements / per + type.byteSize(tuples * per) + 8L * rank;
    }

    static Encoding encode(SharedLayer layer, KMeans1D.Result result, int bits, boolean pack, ValueNames names) {
        Weight weight = layer.weight();
        DataType type = weight.type();
        int k = result.codebook().length;
        long best = plainBytes(weight.elements(), k, type);
        int bestPer = 1;
        // More indices per byte means fewer index bytes but a table of k^per tuples: take the smallest.
        for (int per = 2; pack && per <= 8 / bits; per++) {
            long bytes = packedBytes(weight.elements(), weight.rank(), k, per, type);
            if (bytes >= 0 && bytes < best) {
                best = bytes;
                bestPer = per;
            }
        }
        if (bestPer > 1) {
            return packed(layer, result, bestPer, best, names);
        }
        String name = weight.name();
        String indices = names.fresh(name + "_indices");
        String codebook = names.fresh(name + "_codebook");
        String wide = names.fresh(name + "_indices_int32");
        List<TensorProto> tensors = List.of(
                Tensors.ofBytes(indices, DataType.UINT8, weight.dims(), result.indices()),
                floats(codebook, type, new long[] {k}, result.codebook()));
        List<NodeProto> nodes = List.of(
                Nodes.node("Cast", names.fresh(name + "_cast"), List.of(indices), List.of(wide), Nodes.attr("to", INT32)),
                Nodes.node("Gather", names.fresh(name + "_gather"), List.of(codebook, wide), List.of(name),
                        Nodes.attr("axis", 0L)));
        return new Encoding(layer, tensors, nodes, best, 1);
    }

    private static Encoding packed(SharedLayer layer, KMeans1D.Result result, int per, long bytes, ValueNames names) {
        Weight weight = layer.weight();
        int k = result.codebook().length;
        int tuples = Math.toIntExact(pow(k, per));
        float[] table = new float[tuples * per];
        for (int t = 0; t < tuples; t++) {
            int digits = t;
            for (int d = 0; d < per; d++) {
                table[t * per + d] = result.codebook()[digits % k];
                digits /= k;
            }
        }
        byte[] indices = result.indices();
        byte[] packed = new byte[indices.length / per];
        for (int g = 0; g < packed.length; g++) {
            int value = 0;
            int place = 1;
            for (int d = 0; d < per; d++) {
                value += (indices[g * per + d] & 0xff) * place;
                place *= k;
            }
            packed[g] = (byte) value;
        }
        String name = weight.name();
        String packedName = names.fresh(name + "_indices");
        String tableName = names.fresh(name + "_codebook_tuples");
        String shapeName = names.fresh(name + "_shape");
        String wide = names.fresh(name + "_indices_int32");
        String rows = names.fresh(name + "_rows");
        List<TensorProto> tensors = List.of(
                Tensors.ofBytes(packedName, DataType.UINT8, new long[] {packed.length}, packed),
                floats(tableName, weight.type(), new long[] {tuples, per}, table),
                Tensors.ofInt64(shapeName, new long[] {weight.rank()}, weight.dims()));
        List<NodeProto> nodes = List.of(
                Nodes.node("Cast", names.fresh(name + "_cast"), List.of(packedName), List.of(wide), Nodes.attr("to", INT32)),
                Nodes.node("Gather", names.fresh(name + "_gather"), List.of(tableName, wide), List.of(rows),
                        Nodes.attr("axis", 0L)),
                Nodes.node("Reshape", names.fresh(name + "_reshape"), List.of(rows, shapeName), List.of(name)));
        return new Encoding(layer, tensors, nodes, bytes, per);
    }

    private static TensorProto floats(String name, DataType type, long[] dims, float[] values) {
        return switch (type) {
            case FLOAT -> Tensors.ofFloats(name, dims, values);
            case FLOAT16 -> Tensors.ofFloat16(name, dims, values);
            case BFLOAT16 -> Tensors.ofBfloat16(name, dims, values);
            default -> throw new IllegalArgumentException("no codebook of type " + type.label());
        };
    }

    private static long pow(int base, int exponent) {
        long value = 1;
        for (int i = 0; i < exponent; i++) {
            value *= base;
        }
        return value;
    }

    /**
     * A copy of {@code model} where every encoded weight is replaced, where it was defined and in
     * the same storage: initializers stay initializers (their decoding nodes go first in the
     * graph), a Constant node becomes Constant nodes followed by the decoding nodes.
     */
    static ModelProto apply(ModelProto model, List<Encoding> encodings) {
        Map<GraphPath, Map<String, Encoding>> byGraph = new HashMap<>();
        for (Encoding encoding : encodings) {
            Weight.Ref ref = encoding.layer().weight().ref();
            byGraph.computeIfAbsent(ref.graph(), g -> new HashMap<>()).put(ref.name(), encoding);
        }
        Set<Weight.Ref> replaced = new HashSet<>();
        ModelProto result = Graphs.rewrite(model, (path, graph) -> {
            Map<String, Encoding> here = byGraph.get(path);
            return here == null ? graph : rewrite(path, graph, here, replaced);
        });
        if (replaced.size() != encodings.size()) {
            throw new IllegalStateException("only " + replaced.size() + " of " + encodings.size() + " weights were found");
        }
        return result;
    }

    private static GraphProto rewrite(GraphPath path, GraphProto graph, Map<String, Encoding> encodings,
            Set<Weight.Ref> replaced) {
        GraphProto.Builder builder = graph.toBuilder().clearNode().clearInitializer();
        List<TensorProto> initializers = new ArrayList<>();
        for (TensorProto initializer : graph.getInitializerList()) {
            Encoding encoding = encodings.get(initializer.getName());
            if (encoding == null) {
                initializers.add(initializer);
            } else {
                replaced.add(new Weight.Ref(path, initializer.getName()));
                initializers.addAll(encoding.tensors());
                builder.addAllNode(encoding.nodes()); // inputs are initializers: they may come first
            }
        }
        builder.addAllInitializer(initializers);
        for (NodeProto node : graph.getNodeList()) {
            Encoding encoding = isConstant(node) ? encodings.get(node.getOutput(0)) : null;
            if (encoding == null) {
                builder.addNode(node);
                continue;
            }
            replaced.add(new Weight.Ref(path, node.getOutput(0)));
            encoding.tensors().forEach(tensor -> builder.addNode(constant(tensor)));
            builder.addAllNode(encoding.nodes());
        }
        return builder.build();
    }

    private static NodeProto constant(TensorProto tensor) {
        return Nodes.node("Constant", tensor.getName(), List.of(), List.of(tensor.getName()), Nodes.attr("value", tensor));
    }

    /** Serialized bytes a tensor takes in the model where it is stored: as an initializer or in a Constant node. */
    static long storedSize(TensorProto tensor, Weight.Storage storage) {
        return storage == Weight.Storage.CONSTANT_NODE ? constant(tensor).getSerializedSize() : tensor.getSerializedSize();
    }

    /** Serialized bytes the encoding takes in the model: its tensors, stored as the weight was, and its nodes. */
    static long storedSize(Encoding encoding) {
        Weight.Storage storage = encoding.layer().weight().storage();
        long size = 0;
        for (TensorProto tensor : encoding.tensors()) {
            size += storedSize(tensor, storage);
        }
        for (NodeProto node : encoding.nodes()) {
            size += node.getSerializedSize();
        }
        return size;
    }

    private static boolean isConstant(NodeProto node) {
        return node.getOpType().equals("Constant") && node.getDomain().isEmpty() && node.getOutputCount() == 1
                && Nodes.attribute(node, "value").map(AttributeProto::hasT).orElse(false);
    }
}

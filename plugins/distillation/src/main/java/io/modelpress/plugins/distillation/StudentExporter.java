package io.modelpress.plugins.distillation;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * Writes a trained student as an ONNX model with the teacher's input and output exactly as the
 * teacher declared them (names, element types, shapes), so that it replaces the teacher where the
 * teacher ran and the next plugins of a chain can take it further. Type casts at either end and the
 * teacher's Softmax or LogSoftmax head are added where the teacher had them.
 */
final class StudentExporter {

    /** Opset of the student's operators (Gemm, Conv, Relu, GlobalAveragePool, Flatten, Softmax, Cast). */
    static final long OPSET = 17;
    private static final long IR_VERSION = 8;

    private StudentExporter() {
    }

    /**
     * @param parameters weight and bias of each Dense and Conv layer, in order (DJL's layouts,
     *     which are ONNX's: Gemm with transB=1, Conv's [out, in/groups, k, k])
     */
    static OnnxModel export(OnnxModel teacherModel, Teacher teacher, Student student, List<float[]> parameters) {
        String prefix = prefix(teacher);
        GraphProto.Builder graph = GraphProto.newBuilder()
                .setName(prefix + "graph")
                .setDocString("student distilled by modelpress: " + student.description())
                .addInput(teacher.input())
                .addOutput(teacher.output());
        String current = teacher.inputName();
        if (teacher.inputType() != DataType.FLOAT) {
            current = cast(graph, prefix + "input_cast", current, prefix + "input_float", DataType.FLOAT);
        }
        Iterator<float[]> values = parameters.iterator();
        List<Layer> layers = student.layers();
        for (int i = 0; i < layers.size(); i++) {
            current = emit(graph, prefix + i + "_", layers.get(i), current, values);
        }
        if (values.hasNext()) {
            throw new IllegalArgumentException("more parameter tensors than the student has layers for");
        }
        String logits = current;
        current = switch (teacher.head()) {
            case LOGITS -> logits;
            case SOFTMAX -> unary(graph, "Softmax", prefix + "head", logits, prefix + "probabilities", -1);
            case LOG_SOFTMAX -> unary(graph, "LogSoftmax", prefix + "head", logits, prefix + "log_probabilities", -1);
        };
        if (teacher.outputType() != DataType.FLOAT) {
            current = cast(graph, prefix + "output_cast", current, prefix + "output_typed", teacher.outputType());
        }
        renameOutput(graph, current, teacher.outputName());

        ModelProto proto = ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .setProducerName("modelpress-distillation")
                .setProducerVersion(DistillationPlugin.VERSION)
                .setDomain(teacherModel.proto().getDomain())
                .setModelVersion(teacherModel.proto().getModelVersion())
                .setDocString(teacherModel.proto().getDocString())
                .addAllMetadataProps(teacherModel.proto().getMetadataPropsList())
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(graph)
                .build();
        return teacherModel.withProto(proto);
    }

    private static String emit(GraphProto.Builder graph, String name, Layer layer, String input,
            Iterator<float[]> values) {
        String output = name + "out";
        if (layer instanceof Layer.Dense dense) {
            graph.addInitializer(Tensors.ofFloats(name + "weight", new long[] {dense.outputs(), dense.inputs()},
                    values.next()));
            graph.addInitializer(Tensors.ofFloats(name + "bias", new long[] {dense.outputs()}, values.next()));
            graph.addNode(Nodes.node("Gemm", name + "gemm", List.of(input, name + "weight", name + "bias"),
                    List.of(output), Nodes.attr("transB", 1L)));
        } else if (layer instanceof Layer.Conv conv) {
            long k = conv.kernel();
            long p = conv.padding();
            graph.addInitializer(Tensors.ofFloats(name + "weight",
                    new long[] {conv.outputs(), conv.inputs() / conv.groups(), k, k}, values.next()));
            graph.addInitializer(Tensors.ofFloats(name + "bias", new long[] {conv.outputs()}, values.next()));
            graph.addNode(Nodes.node("Conv", name + "conv", List.of(input, name + "weight", name + "bias"),
                    List.of(output), Nodes.attr("kernel_shape", new long[] {k, k}),
                    Nodes.attr("strides", new long[] {conv.stride(), conv.stride()}),
                    Nodes.attr("pads", new long[] {p, p, p, p}), Nodes.attr("group", (long) conv.groups())));
        } else if (layer instanceof Layer.Activate activate) {
            String op = activate.activation().opType();
            graph.addNode(Nodes.node(op, name + op.toLowerCase(Locale.ROOT), List.of(input),
                    List.of(output)));
        } else if (layer instanceof Layer.GlobalAveragePool) {
            graph.addNode(Nodes.node("GlobalAveragePool", name + "pool", List.of(input), List.of(output)));
        } else if (layer instanceof Layer.Flatten) {
            graph.addNode(Nodes.node("Flatten", name + "flatten", List.of(input), List.of(output),
                    Nodes.attr("axis", 1L)));
        } else {
            throw new IllegalArgumentException("cannot export " + layer);
        }
        return output;
    }

    private static String unary(GraphProto.Builder graph, String op, String name, String input, String output,
            long axis) {
        graph.addNode(Nodes.node(op, name, List.of(input), List.of(output), Nodes.attr("axis", axis)));
        return output;
    }

    private static String cast(GraphProto.Builder graph, String name, String input, String output, DataType to) {
        graph.addNode(Nodes.node("Cast", name, List.of(input), List.of(output), Nodes.attr("to", (long) to.code())));
        return output;
    }

    /** The last node writes the teacher's output name itself: no Identity needed. */
    private static void renameOutput(GraphProto.Builder graph, String from, String to) {
        for (int n = graph.getNodeCount() - 1; n >= 0; n--) {
            NodeProto node = graph.getNode(n);
            for (int o = 0; o < node.getOutputCount(); o++) {
                if (node.getOutput(o).equals(from)) {
                    graph.setNode(n, node.toBuilder().setOutput(o, to));
                    return;
                }
            }
        }
        throw new IllegalStateException("no node computes " + from);
    }

    /** A prefix for the student's own value names that cannot clash with the teacher's input or output. */
    private static String prefix(Teacher teacher) {
        String prefix = "student/";
        while (teacher.inputName().startsWith(prefix) || teacher.outputName().startsWith(prefix)) {
            prefix = "_" + prefix;
        }
        return prefix;
    }
}

package io.modelpress.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/** Small graphs for the model tests (this module cannot use the test kit, which depends on it). */
final class TestGraphs {

    private TestGraphs() {
    }

    static ModelProto model(GraphProto graph) {
        return ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("modelpress-model-tests")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .setGraph(graph)
                .build();
    }

    /** Uniform values in [-1, 1), deterministic for the seed. */
    static float[] randomFloats(long seed, int count) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[count];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }

    static TensorProto floats(String name, long seed, long... dims) {
        return Tensors.ofFloats(name, dims, randomFloats(seed, Math.toIntExact(Shapes.elementCount(dims))));
    }

    /**
     * x f32[batch, 64] → MatMul(w) → Add(b) → Mul(scale) → MatMul(w2) → y, where scale and w2 are
     * Constant nodes, plus unused int8 and float16 initializers. w (16 KiB), w2 (16 KiB), q (int8,
     * 2000 B) and h (float16, 2000 B) are large enough for external data; b and scale (256 B each)
     * stay inline.
     */
    static ModelProto mixed() {
        byte[] int8 = new byte[2000];
        new SplittableRandom(7).nextBytes(int8);
        GraphProto graph = GraphProto.newBuilder()
                .setName("mixed")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, "batch", 64))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, "batch", 64))
                .addInitializer(floats("w", 1, 64, 64))
                .addInitializer(floats("b", 2, 64))
                .addInitializer(Tensors.ofBytes("q", DataType.INT8, new long[] {2000}, int8))
                .addInitializer(Tensors.ofFloat16("h", new long[] {1000}, randomFloats(3, 1000)))
                .addNode(Nodes.node("Constant", "scale_const", List.of(), List.of("scale"),
                        Nodes.attr("value", floats("", 4, 64))))
                .addNode(Nodes.node("Constant", "w2_const", List.of(), List.of("w2"),
                        Nodes.attr("value", floats("", 5, 64, 64))))
                .addNode(Nodes.node("MatMul", "mm", List.of("x", "w"), List.of("z")))
                .addNode(Nodes.node("Add", "add", List.of("z", "b"), List.of("a")))
                .addNode(Nodes.node("Mul", "mul", List.of("a", "scale"), List.of("s")))
                .addNode(Nodes.node("MatMul", "mm2", List.of("s", "w2"), List.of("y")))
                .build();
        return model(graph);
    }

    /**
     * Weights wherever ONNX lets them live, and names that test the scoping rules:
     * <pre>
     * main:  inputs x f32[1,8], flag bool, trip i64; initializers w, shared (f32[8,8]), q (int8[4,4], unused)
     *   0 Constant cbias_const → cbias f32[8]
     *   1 MatMul mm(x, w) → h
     *   2 If branch(flag) → y
     *       then_branch: 0 MatMul then_mm(h, shared↑) → t0; 1 Add then_add(t0, cbias↑) → t1;
     *                    2 If inner_if(flag↑) → ty
     *                        then_branch: 0 MatMul inner_mm(t1↑, w↑↑) → it
     *                        else_branch: 0 Constant inner_const → ie f32[1,8]
     *       else_branch: initializer shared (its own, shadowing main's)
     *                    0 Constant else_const → eb f32[8]; 1 MatMul else_mm(h↑, shared) → e0;
     *                    2 Identity else_id(e0) → w (a value, shadowing main's weight w);
     *                    3 MatMul else_mm2(w, shared) → e1; 4 Add else_add(e1, eb) → ey
     *   3 Loop loop(trip, "", h) → h_final
     *       body: inputs i, cond, w (shadowing main's weight w); 0 MatMul body_mm(w, shared↑) → next;
     *             1 Identity body_cond(cond) → cond_out
     * </pre>
     */
    static ModelProto scoped() {
        GraphProto innerThen = GraphProto.newBuilder().setName("inner_then")
                .addOutput(Nodes.tensorValue("it", DataType.FLOAT, 1, 8))
                .addNode(Nodes.node("MatMul", "inner_mm", List.of("t1", "w"), List.of("it")))
                .build();
        GraphProto innerElse = GraphProto.newBuilder().setName("inner_else")
                .addOutput(Nodes.tensorValue("ie", DataType.FLOAT, 1, 8))
                .addNode(Nodes.node("Constant", "inner_const", List.of(), List.of("ie"),
                        Nodes.attr("value", floats("", 20, 1, 8))))
                .build();
        GraphProto thenBranch = GraphProto.newBuilder().setName("then")
                .addOutput(Nodes.tensorValue("ty", DataType.FLOAT, 1, 8))
                .addNode(Nodes.node("MatMul", "then_mm", List.of("h", "shared"), List.of("t0")))
                .addNode(Nodes.node("Add", "then_add", List.of("t0", "cbias"), List.of("t1")))
                .addNode(Nodes.node("If", "inner_if", List.of("flag"), List.of("ty"),
                        Nodes.attr("then_branch", innerThen), Nodes.attr("else_branch", innerElse)))
                .build();
        GraphProto elseBranch = GraphProto.newBuilder().setName("else")
                .addOutput(Nodes.tensorValue("ey", DataType.FLOAT, 1, 8))
                .addInitializer(floats("shared", 30, 8, 8))
                .addNode(Nodes.node("Constant", "else_const", List.of(), List.of("eb"),
                        Nodes.attr("value", floats("", 31, 8))))
                .addNode(Nodes.node("MatMul", "else_mm", List.of("h", "shared"), List.of("e0")))
                .addNode(Nodes.node("Identity", "else_id", List.of("e0"), List.of("w")))
                .addNode(Nodes.node("MatMul", "else_mm2", List.of("w", "shared"), List.of("e1")))
                .addNode(Nodes.node("Add", "else_add", List.of("e1", "eb"), List.of("ey")))
                .build();
        GraphProto body = GraphProto.newBuilder().setName("body")
                .addInput(Nodes.tensorValue("i", DataType.INT64))
                .addInput(Nodes.tensorValue("cond", DataType.BOOL))
                .addInput(Nodes.tensorValue("w", DataType.FLOAT, 1, 8))
                .addOutput(Nodes.tensorValue("cond_out", DataType.BOOL))
                .addOutput(Nodes.tensorValue("next", DataType.FLOAT, 1, 8))
                .addNode(Nodes.node("MatMul", "body_mm", List.of("w", "shared"), List.of("next")))
                .addNode(Nodes.node("Identity", "body_cond", List.of("cond"), List.of("cond_out")))
                .build();
        GraphProto main = GraphProto.newBuilder().setName("scoped")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, 1, 8))
                .addInput(Nodes.tensorValue("flag", DataType.BOOL))
                .addInput(Nodes.tensorValue("trip", DataType.INT64))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, 1, 8))
                .addOutput(Nodes.tensorValue("h_final", DataType.FLOAT, 1, 8))
                .addInitializer(floats("w", 10, 8, 8))
                .addInitializer(floats("shared", 11, 8, 8))
                .addInitializer(Tensors.ofBytes("q", DataType.INT8, new long[] {4, 4}, new byte[16]))
                .addNode(Nodes.node("Constant", "cbias_const", List.of(), List.of("cbias"),
                        Nodes.attr("value", floats("", 12, 8))))
                .addNode(Nodes.node("MatMul", "mm", List.of("x", "w"), List.of("h")))
                .addNode(Nodes.node("If", "branch", List.of("flag"), List.of("y"),
                        Nodes.attr("then_branch", thenBranch), Nodes.attr("else_branch", elseBranch)))
                .addNode(Nodes.node("Loop", "loop", List.of("trip", "", "h"), List.of("h_final"),
                        Nodes.attr("body", body)))
                .build();
        return model(main);
    }

    static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    /** The tensor with its data moved to {@code location} at {@code offset}. */
    static TensorProto external(TensorProto tensor, String location, long offset, long length) {
        return tensor.toBuilder()
                .clearRawData()
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(entry("location", location))
                .addExternalData(entry("offset", Long.toString(offset)))
                .addExternalData(entry("length", Long.toString(length)))
                .build();
    }

    /** Loading must fail with a one-line message holding every word (case-insensitive). */
    static ModelException assertRefused(Path file, String... words) {
        ModelException e = assertThrows(ModelException.class, () -> OnnxModel.load(file));
        assertOneLine(e, words);
        return e;
    }

    static void assertOneLine(ModelException e, String... words) {
        String message = e.getMessage();
        assertFalse(message == null || message.isBlank(), "no message");
        assertFalse(message.contains("\n") || message.contains("\r"), "message is not one line: " + message);
        String lower = message.toLowerCase(Locale.ROOT);
        for (String word : words) {
            assertTrue(lower.contains(word.toLowerCase(Locale.ROOT)),
                    "message does not name '" + word + "': " + message);
        }
    }

    static void assertSameValues(TensorProto expected, TensorProto actual) {
        assertEquals(expected.getName(), actual.getName());
        assertEquals(expected.getDataType(), actual.getDataType(), expected.getName());
        assertEquals(expected.getDimsList(), actual.getDimsList(), expected.getName());
        assertEquals(expected.getRawData(), actual.getRawData(), expected.getName());
    }
}

package io.modelpress.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class WeightIndexTest {

    private static final GraphPath THEN = GraphPath.MAIN.child(2, "branch", "then_branch", 0);
    private static final GraphPath ELSE = GraphPath.MAIN.child(2, "branch", "else_branch", 0);
    private static final GraphPath INNER_THEN = THEN.child(2, "inner_if", "then_branch", 0);
    private static final GraphPath INNER_ELSE = THEN.child(2, "inner_if", "else_branch", 0);
    private static final GraphPath BODY = GraphPath.MAIN.child(3, "loop", "body", 0);

    private static Weight.Ref main(String name) {
        return new Weight.Ref(GraphPath.MAIN, name);
    }

    private static Weight.Use use(GraphPath graph, int node, String name, String op, int input) {
        return new Weight.Use(graph, node, name, op, "", input);
    }

    private static Weight weight(WeightIndex index, Weight.Ref ref) {
        return index.get(ref).orElseThrow(() -> new AssertionError("no weight " + ref + " in " + index.all()));
    }

    @Test
    void graphPathsNameTheNodeAndBranch() {
        assertEquals("main", GraphPath.MAIN.toString());
        assertEquals("main/branch.then_branch", THEN.toString());
        assertEquals("main/branch.then_branch/inner_if.else_branch", INNER_ELSE.toString());
        assertEquals(2, INNER_ELSE.depth());
        assertTrue(GraphPath.MAIN.isMain());
        assertFalse(THEN.isMain());
        assertEquals("main/#4.body[1]", GraphPath.MAIN.child(4, "", "body", 1).toString());
        assertEquals("main/branch.else_branch:shared", new Weight.Ref(ELSE, "shared").toString());
        assertEquals("w", main("w").toString());
    }

    @Test
    void findsInitializersAndConstantNodesEverywhere() {
        WeightIndex index = WeightIndex.of(TestGraphs.scoped());
        List<Weight.Ref> refs = index.all().stream().map(Weight::ref).toList();
        assertEquals(List.of(main("w"), main("shared"), main("q"), main("cbias"),
                new Weight.Ref(INNER_ELSE, "ie"), new Weight.Ref(ELSE, "shared"), new Weight.Ref(ELSE, "eb")), refs);

        Weight w = weight(index, main("w"));
        assertEquals(Weight.Storage.INITIALIZER, w.storage());
        assertEquals(DataType.FLOAT, w.type());
        assertArrayEquals(new long[] {8, 8}, w.dims());
        assertEquals(2, w.rank());
        assertEquals(64, w.elements());
        assertEquals(256, w.bytes());

        Weight q = weight(index, main("q"));
        assertEquals(DataType.INT8, q.type());
        assertEquals(16, q.bytes());
        assertEquals(List.of(), q.uses(), "an unused weight is indexed, with no uses");

        Weight cbias = weight(index, main("cbias"));
        assertEquals(Weight.Storage.CONSTANT_NODE, cbias.storage());
        assertArrayEquals(new long[] {8}, cbias.dims());
        assertEquals(32, cbias.bytes());
        TensorProto cbiasTensor = index.tensor(main("cbias"));
        assertEquals("cbias", cbiasTensor.getName(), "a Constant tensor is named as the value it defines");
        assertArrayEquals(TestGraphs.randomFloats(12, 8), Tensors.toFloats(cbiasTensor));

        Weight ie = weight(index, new Weight.Ref(INNER_ELSE, "ie"));
        assertEquals(Weight.Storage.CONSTANT_NODE, ie.storage());
        assertEquals(INNER_ELSE, ie.ref().graph());
        assertEquals("inner_if", ie.ref().graph().steps().get(1).nodeName());
        assertEquals("else_branch", ie.ref().graph().steps().get(1).attribute());

        Weight elseShared = weight(index, new Weight.Ref(ELSE, "shared"));
        assertEquals(Weight.Storage.INITIALIZER, elseShared.storage());
        assertEquals("branch", elseShared.ref().graph().steps().get(0).nodeName());
        assertEquals(2, elseShared.ref().graph().steps().get(0).nodeIndex());
        assertArrayEquals(TestGraphs.randomFloats(30, 64), Tensors.toFloats(index.tensor(elseShared.ref())));

        assertEquals(256 * 3 + 16 + 32 * 3, index.totalBytes());
        assertEquals(64 * 3 + 16 + 8 + 8 + 8, index.totalElements());
        assertTrue(index.get(new Weight.Ref(THEN, "shared")).isEmpty(), "then_branch defines no shared");
        assertThrows(IllegalArgumentException.class, () -> index.tensor(new Weight.Ref(THEN, "shared")));
    }

    @Test
    void usesFollowOnnxScoping() {
        WeightIndex index = WeightIndex.of(TestGraphs.scoped());
        // read in the main graph and, two levels down, in the inner If; not where w is shadowed
        assertEquals(List.of(use(GraphPath.MAIN, 1, "mm", "MatMul", 1), use(INNER_THEN, 0, "inner_mm", "MatMul", 1)),
                weight(index, main("w")).uses());
        // read from the then branch and the loop body, which define no 'shared' of their own
        assertEquals(List.of(use(THEN, 0, "then_mm", "MatMul", 1), use(BODY, 0, "body_mm", "MatMul", 1)),
                weight(index, main("shared")).uses());
        // the else branch's own 'shared' takes its reads
        assertEquals(List.of(use(ELSE, 1, "else_mm", "MatMul", 1), use(ELSE, 3, "else_mm2", "MatMul", 1)),
                weight(index, new Weight.Ref(ELSE, "shared")).uses());
        assertEquals(List.of(use(THEN, 1, "then_add", "Add", 1)), weight(index, main("cbias")).uses());
        assertEquals(List.of(use(ELSE, 4, "else_add", "Add", 1)), weight(index, new Weight.Ref(ELSE, "eb")).uses());
        assertEquals(List.of(), weight(index, new Weight.Ref(INNER_ELSE, "ie")).uses(), "a graph output is not a node input");

        assertTrue(weight(index, main("shared")).onlyUsedAs("MatMul", 1));
        assertFalse(weight(index, main("shared")).onlyUsedAs("MatMul", 0));
        assertFalse(weight(index, main("q")).onlyUsedAs("MatMul", 1), "no uses: not 'only used as'");
    }

    @Test
    void theIndexIsCachedPerModelAndDimsAreCopies() {
        OnnxModel model = OnnxModel.of(TestGraphs.scoped());
        assertSame(model.weights(), model.weights());
        Weight w = model.weights().get(main("w")).orElseThrow();
        w.dims()[0] = 99;
        assertArrayEquals(new long[] {8, 8}, w.dims());
    }

    @Test
    void replaceSwapsAConstantNodeAndASubgraphInitializerAndLeavesTheInputAlone() {
        ModelProto original = TestGraphs.scoped();
        ModelProto copy = ModelProto.newBuilder(original).build();
        OnnxModel model = OnnxModel.of(original);
        WeightIndex before = model.weights();

        float[] newBias = {1, 2, 3, 4, 5, 6, 7, 8};
        byte[] quantized = new byte[64];
        for (int i = 0; i < 64; i++) {
            quantized[i] = (byte) (i - 32);
        }
        Weight.Ref elseShared = new Weight.Ref(ELSE, "shared");
        ModelProto replaced = WeightIndex.replace(original, Map.of(
                main("cbias"), Tensors.ofFloats("ignored", new long[] {8}, newBias),
                elseShared, Tensors.ofBytes("", DataType.INT8, new long[] {8, 8}, quantized)));

        // the input is untouched
        assertEquals(copy, original);
        assertArrayEquals(TestGraphs.randomFloats(12, 8), Tensors.toFloats(before.tensor(main("cbias"))));
        assertArrayEquals(TestGraphs.randomFloats(12, 8), Tensors.toFloats(WeightIndex.of(original).tensor(main("cbias"))));

        WeightIndex after = WeightIndex.of(replaced);
        assertArrayEquals(newBias, Tensors.toFloats(after.tensor(main("cbias"))));
        assertEquals(Weight.Storage.CONSTANT_NODE, weight(after, main("cbias")).storage(), "still a Constant node");
        assertEquals("Constant", replaced.getGraph().getNode(0).getOpType());
        TensorProto inNode = WeightIndex.constantTensor(replaced.getGraph().getNode(0));
        assertArrayEquals(newBias, Tensors.toFloats(inNode));

        Weight q = weight(after, elseShared);
        assertEquals(DataType.INT8, q.type());
        assertEquals(Weight.Storage.INITIALIZER, q.storage());
        assertEquals("shared", after.tensor(elseShared).getName(), "the replacement keeps the weight's name");
        assertArrayEquals(Tensors.toFloats(Tensors.ofBytes("", DataType.INT8, new long[] {64}, quantized)),
                Tensors.toFloats(after.tensor(elseShared)));
        assertEquals(weight(before, elseShared).uses(), q.uses(), "uses are unchanged");

        // the main graph's 'shared' of the same name is not touched, nor anything else
        assertEquals(before.tensor(main("shared")), after.tensor(main("shared")));
        for (Weight other : before.all()) {
            if (!other.ref().equals(main("cbias")) && !other.ref().equals(elseShared)) {
                assertEquals(before.tensor(other.ref()), after.tensor(other.ref()), other.ref().toString());
            }
        }
        assertEquals(before.all().size(), after.all().size());
        assertNotEquals(original, replaced);
        assertEquals(original.getGraph().getNodeCount(), replaced.getGraph().getNodeCount());
    }

    @Test
    void replaceRefusesWeightsThatAreNotThere() {
        ModelProto model = TestGraphs.scoped();
        TensorProto t = Tensors.ofFloats("x", new long[] {1}, new float[1]);
        assertThrows(IllegalArgumentException.class, () -> WeightIndex.replace(model, Map.of(main("nope"), t)));
        // 'shared' exists in main and else, not in then
        assertThrows(IllegalArgumentException.class,
                () -> WeightIndex.replace(model, Map.of(new Weight.Ref(THEN, "shared"), t)));
        assertSame(model, WeightIndex.replace(model, Map.of()));
    }

    @Test
    void realShapedModelIndexesEveryWeight() {
        WeightIndex index = WeightIndex.of(TestGraphs.mixed());
        Map<String, Weight.Storage> storage = index.all().stream()
                .collect(Collectors.toMap(Weight::name, Weight::storage));
        assertEquals(Map.of("w", Weight.Storage.INITIALIZER, "b", Weight.Storage.INITIALIZER,
                "q", Weight.Storage.INITIALIZER, "h", Weight.Storage.INITIALIZER,
                "scale", Weight.Storage.CONSTANT_NODE, "w2", Weight.Storage.CONSTANT_NODE), storage);
        assertEquals(DataType.FLOAT16, weight(index, main("h")).type());
        assertEquals(2000, weight(index, main("h")).bytes());
        assertEquals(List.of(use(GraphPath.MAIN, 5, "mm2", "MatMul", 1)), weight(index, main("w2")).uses());
    }
}

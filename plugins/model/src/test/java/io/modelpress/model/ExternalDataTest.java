package io.modelpress.model;

import static io.modelpress.model.TestGraphs.assertSameValues;
import static io.modelpress.model.TestGraphs.external;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExternalDataTest {

    /** The file name MLflow gives external data: a UUID, no extension. */
    private static final String UUID_NAME = "3f2c8a1e-9b4d-4e7a-a0c5-6d1f2e3b4a59";

    @TempDir
    Path dir;

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    /** Every tensor of the model (initializers and Constant values, all graphs) by graph and name. */
    private static Map<String, TensorProto> tensors(ModelProto model) {
        Map<String, TensorProto> out = new HashMap<>();
        Graphs.forEach(model, (path, graph) -> {
            graph.getInitializerList().forEach(t -> out.put(path + ":" + t.getName(), t));
            for (NodeProto node : graph.getNodeList()) {
                for (AttributeProto attribute : node.getAttributeList()) {
                    if (attribute.hasT()) {
                        out.put(path + ":" + node.getName() + "." + attribute.getName(), attribute.getT());
                    }
                }
            }
        });
        return out;
    }

    private static Map<String, String> externalEntries(TensorProto tensor) {
        Map<String, String> out = new HashMap<>();
        for (StringStringEntryProto entry : tensor.getExternalDataList()) {
            out.put(entry.getKey(), entry.getValue());
        }
        return out;
    }

    /**
     * Writes {@code model} the way other tools do: every tensor with raw data moved, back to back
     * with no alignment, to one file named {@code dataName}; the data file's bytes are returned.
     */
    private static byte[] writeLikeAnExporter(ModelProto model, Path modelFile, String dataName) throws IOException {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        ModelProto moved = Graphs.rewrite(model, (path, graph) -> {
            GraphProto.Builder builder = graph.toBuilder();
            for (int i = 0; i < builder.getInitializerCount(); i++) {
                TensorProto t = builder.getInitializer(i);
                long offset = data.size();
                data.writeBytes(t.getRawData().toByteArray());
                builder.setInitializer(i, external(t, dataName, offset, t.getRawData().size()).toBuilder()
                        .addExternalData(TestGraphs.entry("checksum", "ignored")).build());
            }
            for (int n = 0; n < builder.getNodeCount(); n++) {
                NodeProto node = builder.getNode(n);
                if (node.getOpType().equals("Constant")) {
                    TensorProto t = node.getAttribute(0).getT();
                    long offset = data.size();
                    data.writeBytes(t.getRawData().toByteArray());
                    builder.setNode(n, node.toBuilder().setAttribute(0, node.getAttribute(0).toBuilder()
                            .setT(external(t, dataName, offset, t.getRawData().size()))));
                }
            }
            return builder.build();
        });
        Files.write(modelFile, moved.toByteArray());
        Files.write(modelFile.resolveSibling(dataName), data.toByteArray());
        return data.toByteArray();
    }

    /** {@link TestGraphs#mixed} plus an If whose branches hold an initializer and a Constant node. */
    private static ModelProto withSubgraphWeights() {
        ModelProto mixed = TestGraphs.mixed();
        GraphProto thenBranch = GraphProto.newBuilder().setName("then")
                .addOutput(Nodes.tensorValue("t", DataType.FLOAT, "batch", 64))
                .addInitializer(TestGraphs.floats("branch_w", 11, 64, 64))
                .addNode(Nodes.node("MatMul", "then_mm", List.of("y", "branch_w"), List.of("t")))
                .build();
        GraphProto elseBranch = GraphProto.newBuilder().setName("else")
                .addOutput(Nodes.tensorValue("e", DataType.FLOAT, "batch", 64))
                .addNode(Nodes.node("Constant", "else_const", List.of(), List.of("k"),
                        Nodes.attr("value", TestGraphs.floats("", 12, 64, 64))))
                .addNode(Nodes.node("MatMul", "else_mm", List.of("y", "k"), List.of("e")))
                .build();
        GraphProto graph = mixed.getGraph().toBuilder()
                .addInput(Nodes.tensorValue("flag", DataType.BOOL))
                .clearOutput()
                .addOutput(Nodes.tensorValue("out", DataType.FLOAT, "batch", 64))
                .addNode(Nodes.node("If", "branch", List.of("flag"), List.of("out"),
                        Nodes.attr("then_branch", thenBranch), Nodes.attr("else_branch", elseBranch)))
                .build();
        return mixed.toBuilder().setGraph(graph).build();
    }

    @Test
    void externalDataInAFileNamedLikeAUuidLoadsLikeTheInlineModel() throws Exception {
        ModelProto inline = withSubgraphWeights();
        Path modelFile = dir.resolve("model.onnx");
        byte[] data = writeLikeAnExporter(inline, modelFile, UUID_NAME);
        assertTrue(data.length > 40_000);

        OnnxModel loaded = OnnxModel.load(modelFile);
        assertTrue(loaded.hadExternalData());
        Map<String, TensorProto> expected = tensors(inline);
        Map<String, TensorProto> actual = tensors(loaded.proto());
        assertEquals(expected.keySet(), actual.keySet());
        expected.forEach((key, tensor) -> {
            TensorProto read = actual.get(key);
            assertSameValues(tensor, read);
            assertEquals(0, read.getExternalDataCount(), key);
            assertEquals(TensorProto.DataLocation.DEFAULT, read.getDataLocation(), key);
        });
        assertArrayEquals(Tensors.toFloats(inline.getGraph().getInitializer(0)),
                Tensors.toFloats(loaded.proto().getGraph().getInitializer(0)));
        assertEquals(inline, loaded.proto(), "once read in, the model is the inline one");
        assertEquals(inline.getGraph().getNodeList().size(), loaded.proto().getGraph().getNodeCount());

        // the digest covers the model file and the data file
        String plain = sha256(Files.readAllBytes(modelFile));
        assertNotEquals(plain, loaded.sourceDigest().orElseThrow());
    }

    @Test
    void savedWithExternalDataAndLoadedBackIsTheSameModel() throws Exception {
        ModelProto original = withSubgraphWeights();
        Path modelFile = dir.resolve("out/model.onnx");
        SavedModel saved = OnnxModel.of(original).save(modelFile, SaveOptions.external(UUID_NAME));

        Path dataFile = dir.resolve("out").resolve(UUID_NAME);
        assertEquals(modelFile.toAbsolutePath(), saved.modelFile());
        assertEquals(dataFile.toAbsolutePath(), saved.dataFile().orElseThrow());
        assertEquals(Files.size(dataFile), saved.dataBytes());
        assertEquals(Files.size(modelFile), saved.modelBytes());
        assertTrue(saved.modelBytes() < 5_000, "weights left the model file: " + saved.modelBytes());
        try (var files = Files.list(dir.resolve("out"))) {
            assertEquals(2, files.count(), "no temporary files are left behind");
        }

        // what is on disk: large tensors external, 64-byte aligned; small ones inline
        ModelProto onDisk = ModelProto.parseFrom(Files.readAllBytes(modelFile));
        Map<String, TensorProto> written = tensors(onDisk);
        long sum = 0;
        List<String> externalKeys = new ArrayList<>();
        for (Map.Entry<String, TensorProto> e : tensors(original).entrySet()) {
            TensorProto w = written.get(e.getKey());
            long size = e.getValue().getRawData().size();
            if (size >= 1024) {
                externalKeys.add(e.getKey());
                assertEquals(TensorProto.DataLocation.EXTERNAL, w.getDataLocation(), e.getKey());
                assertFalse(w.hasRawData(), e.getKey());
                Map<String, String> entries = externalEntries(w);
                assertEquals(UUID_NAME, entries.get("location"));
                assertEquals(Long.toString(size), entries.get("length"));
                assertEquals(0, Long.parseLong(entries.get("offset")) % 64, "aligned: " + entries);
                sum += size;
            } else {
                assertEquals(e.getValue(), w, "small tensor " + e.getKey() + " stays inline");
            }
        }
        assertEquals(6, externalKeys.size(), externalKeys.toString()); // w, q, h, w2, branch_w, k
        assertTrue(externalKeys.stream().anyMatch(k -> k.contains("then_branch")), externalKeys.toString());
        assertTrue(externalKeys.stream().anyMatch(k -> k.contains("else_const")), externalKeys.toString());
        assertTrue(saved.dataBytes() >= sum && saved.dataBytes() < sum + 64 * externalKeys.size());

        OnnxModel loaded = OnnxModel.load(modelFile);
        assertTrue(loaded.hadExternalData());
        assertEquals(original.getGraph(), loaded.proto().getGraph());
        assertEquals(original, loaded.proto());
        assertEquals(saved.digest(), loaded.sourceDigest().orElseThrow(), "save and load agree on the digest");

        // saving the loaded model again gives the same files
        Path again = dir.resolve("again/model.onnx");
        SavedModel second = loaded.save(again, SaveOptions.external(UUID_NAME));
        assertArrayEquals(Files.readAllBytes(modelFile), Files.readAllBytes(again));
        assertArrayEquals(Files.readAllBytes(dataFile), Files.readAllBytes(second.dataFile().orElseThrow()));
        assertEquals(saved.digest(), second.digest());
    }

    @Test
    void theDefaultSaveKeepsExternalDataForAModelThatHadIt() throws Exception {
        Path first = dir.resolve("a/model.onnx");
        OnnxModel.of(TestGraphs.mixed()).save(first, SaveOptions.external("weights"));
        OnnxModel loaded = OnnxModel.load(first);
        Path second = dir.resolve("b/model.onnx");
        SavedModel saved = loaded.save(second);
        assertEquals(second.resolveSibling("model.onnx.data").toAbsolutePath(), saved.dataFile().orElseThrow());
        assertEquals(TestGraphs.mixed(), OnnxModel.load(second).proto());

        SavedModel inline = OnnxModel.of(TestGraphs.mixed()).save(dir.resolve("c/model.onnx"));
        assertTrue(inline.dataFile().isEmpty());
        assertEquals(0, inline.dataBytes());
    }

    @Test
    void smallTensorsStayInlineAndNoEmptyDataFileIsLeft() throws Exception {
        ModelProto small = TestGraphs.model(GraphProto.newBuilder().setName("small")
                .addInput(Nodes.tensorValue("x", DataType.FLOAT, 255))
                .addOutput(Nodes.tensorValue("y", DataType.FLOAT, 255))
                .addInitializer(TestGraphs.floats("w", 1, 255)) // 1020 bytes, under the 1024 threshold
                .addNode(Nodes.node("Add", "add", List.of("x", "w"), List.of("y")))
                .build());
        Path modelFile = dir.resolve("small/model.onnx");
        SavedModel saved = OnnxModel.of(small).save(modelFile, SaveOptions.external(UUID_NAME));
        assertTrue(saved.dataFile().isEmpty());
        assertEquals(0, saved.dataBytes());
        assertFalse(Files.exists(modelFile.resolveSibling(UUID_NAME)));
        assertArrayEquals(small.toByteArray(), Files.readAllBytes(modelFile));
        OnnxModel loaded = OnnxModel.load(modelFile);
        assertFalse(loaded.hadExternalData());
        assertEquals(small, loaded.proto());

        // a custom threshold moves it out
        SavedModel moved = OnnxModel.of(small).save(dir.resolve("moved/model.onnx"), new SaveOptions(true, "d", 1000));
        assertEquals(1020, moved.dataBytes());
        assertEquals(small, OnnxModel.load(dir.resolve("moved/model.onnx")).proto());
    }

    @Test
    void sourceDigestIsTheFileSha256AndFollowsTheExternalFile() throws Exception {
        Path inlineFile = dir.resolve("inline/model.onnx");
        SavedModel saved = OnnxModel.of(TestGraphs.mixed()).save(inlineFile, SaveOptions.inline());
        String fileSha = sha256(Files.readAllBytes(inlineFile));
        OnnxModel inline = OnnxModel.load(inlineFile);
        assertEquals(fileSha, inline.sourceDigest().orElseThrow());
        assertEquals(fileSha, saved.digest());
        assertTrue(OnnxModel.of(TestGraphs.mixed()).sourceDigest().isEmpty(), "a model built in memory has none");
        assertEquals(inline.sourceDigest(), inline.withProto(TestGraphs.model(GraphProto.getDefaultInstance())).sourceDigest(),
                "withProto keeps where the model came from");

        Path externalFile = dir.resolve("external/model.onnx");
        OnnxModel.of(TestGraphs.mixed()).save(externalFile, SaveOptions.external(UUID_NAME));
        Path dataFile = externalFile.resolveSibling(UUID_NAME);
        String before = OnnxModel.load(externalFile).sourceDigest().orElseThrow();
        assertEquals(before, OnnxModel.load(externalFile).sourceDigest().orElseThrow(), "stable");
        assertNotEquals(sha256(Files.readAllBytes(externalFile)), before, "the data file counts");

        byte[] data = Files.readAllBytes(dataFile);
        data[0] ^= 0x01; // one bit of the first weight
        Files.write(dataFile, data);
        OnnxModel changed = OnnxModel.load(externalFile);
        String after = changed.sourceDigest().orElseThrow();
        assertNotEquals(before, after);
        assertEquals(fileSha.length(), after.length());
        assertNotEquals(TestGraphs.mixed().getGraph().getInitializer(0).getRawData(),
                changed.proto().getGraph().getInitializer(0).getRawData());
    }
}

package io.modelpress.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RoundTripTest {

    private static final int UNKNOWN_VARINT = 9001;
    private static final int UNKNOWN_BYTES = 9002;

    @TempDir
    Path dir;

    private static UnknownFieldSet unknown(long number, String text) {
        return UnknownFieldSet.newBuilder()
                .addField(UNKNOWN_VARINT, UnknownFieldSet.Field.newBuilder().addVarint(number).build())
                .addField(UNKNOWN_BYTES, UnknownFieldSet.Field.newBuilder()
                        .addLengthDelimited(ByteString.copyFromUtf8(text)).build())
                .build();
    }

    /** {@link TestGraphs#mixed} with fields from a newer ONNX on the model, a node and a large tensor. */
    private static ModelProto withUnknownFields() {
        ModelProto mixed = TestGraphs.mixed();
        GraphProto.Builder graph = mixed.getGraph().toBuilder();
        TensorProto w = graph.getInitializer(0);
        assertTrue(w.getRawData().size() >= 1024, "w goes to external data");
        graph.setInitializer(0, w.toBuilder().setUnknownFields(unknown(3, "tensor")).build());
        NodeProto node = graph.getNode(2);
        graph.setNode(2, node.toBuilder().setUnknownFields(unknown(2, "node")).build());
        return mixed.toBuilder()
                .setGraph(graph)
                .addMetadataProps(StringStringEntryProto.newBuilder().setKey("author").setValue("tests"))
                .setDocString("a model with fields this code does not know")
                .setUnknownFields(unknown(1, "model"))
                .build();
    }

    private static void assertUnknownFieldsKept(ModelProto model) {
        assertEquals(List.of(1L), model.getUnknownFields().getField(UNKNOWN_VARINT).getVarintList());
        assertEquals(List.of(ByteString.copyFromUtf8("model")),
                model.getUnknownFields().getField(UNKNOWN_BYTES).getLengthDelimitedList());
        assertEquals(List.of(3L), model.getGraph().getInitializer(0).getUnknownFields().getField(UNKNOWN_VARINT).getVarintList());
        assertEquals(List.of(ByteString.copyFromUtf8("node")),
                model.getGraph().getNode(2).getUnknownFields().getField(UNKNOWN_BYTES).getLengthDelimitedList());
    }

    @Test
    void anUnchangedModelSavedAndLoadedIsTheSameProto() throws Exception {
        ModelProto original = TestGraphs.mixed();
        Path file = dir.resolve("model.onnx");
        SavedModel saved = OnnxModel.of(original).save(file, SaveOptions.inline());
        assertTrue(saved.dataFile().isEmpty());
        assertArrayEquals(original.toByteArray(), Files.readAllBytes(file));
        OnnxModel loaded = OnnxModel.load(file);
        assertEquals(original, loaded.proto());
        assertTrue(!loaded.hadExternalData());

        // and again, from the loaded model onto its own file
        loaded.save(file, SaveOptions.inline());
        assertEquals(original, OnnxModel.load(file).proto());
        assertEquals(original.getSerializedSize(), loaded.serializedSize());
        assertArrayEquals(original.toByteArray(), loaded.toByteArray());
    }

    @Test
    void unknownFieldsSurviveSavingInline() throws Exception {
        ModelProto original = withUnknownFields();
        assertUnknownFieldsKept(original);
        Path file = dir.resolve("unknown.onnx");
        OnnxModel.of(original).save(file, SaveOptions.inline());
        ModelProto loaded = OnnxModel.load(file).proto();
        assertUnknownFieldsKept(loaded);
        assertEquals(original, loaded);
    }

    @Test
    void unknownFieldsSurviveSavingWithExternalData() throws Exception {
        ModelProto original = withUnknownFields();
        Path file = dir.resolve("ext/unknown.onnx");
        SavedModel saved = OnnxModel.of(original).save(file, SaveOptions.external("unknown.data"));
        assertTrue(saved.dataFile().isPresent());
        ModelProto onDisk = ModelProto.parseFrom(Files.readAllBytes(file));
        assertEquals(TensorProto.DataLocation.EXTERNAL, onDisk.getGraph().getInitializer(0).getDataLocation());
        assertUnknownFieldsKept(onDisk);
        ModelProto loaded = OnnxModel.load(file).proto();
        assertUnknownFieldsKept(loaded);
        assertEquals(original, loaded);
    }

    @Test
    void withProtoOfTheSameProtoIsTheSameModel() {
        OnnxModel model = OnnxModel.of(TestGraphs.mixed());
        assertSame(model, model.withProto(model.proto()));
        assertSame(model.weights(), model.weights(), "the index is computed once");
    }
}

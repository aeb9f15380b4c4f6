package io.modelpress.model;

import static io.modelpress.model.TestGraphs.assertRefused;
import static io.modelpress.model.TestGraphs.external;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** OnnxModel.load refuses what is not a sound ONNX model with one line that names the problem. */
class LoadRefusalTest {

    @TempDir
    Path dir;

    /** in f32[n] → Add(in, w) → out, with {@code w} as given. */
    private static ModelProto addModel(TensorProto w, long n) {
        GraphProto graph = GraphProto.newBuilder()
                .setName("add")
                .addInput(Nodes.tensorValue("in", DataType.FLOAT, n))
                .addOutput(Nodes.tensorValue("out", DataType.FLOAT, n))
                .addInitializer(w)
                .addNode(Nodes.node("Add", "add", List.of("in", w.getName()), List.of("out")))
                .build();
        return TestGraphs.model(graph);
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path file = dir.resolve(name);
        Files.createDirectories(file.getParent());
        Files.write(file, bytes);
        return file;
    }

    private Path write(String name, ModelProto model) throws IOException {
        return write(name, model.toByteArray());
    }

    @Test
    void missingFile() {
        assertRefused(dir.resolve("nowhere.onnx"), "not found", "nowhere.onnx");
    }

    @Test
    void folder() throws IOException {
        Files.createDirectories(dir.resolve("model.onnx"));
        assertRefused(dir.resolve("model.onnx"), "folder", "model.onnx");
    }

    @Test
    void emptyFile() throws IOException {
        assertRefused(write("empty.onnx", new byte[0]), "empty", "empty.onnx", "not an ONNX model");
    }

    @Test
    void randomBytes() throws IOException {
        SplittableRandom random = new SplittableRandom(20240611);
        for (int size : new int[] {1, 7, 100, 4096, 65536}) {
            byte[] noise = new byte[size];
            random.nextBytes(noise);
            assertRefused(write("noise-" + size + ".onnx", noise), "noise-" + size + ".onnx", "not", "ONNX model");
        }
    }

    @Test
    void textFiles() throws IOException {
        assertRefused(write("hello.onnx", "hello world\n".getBytes(StandardCharsets.UTF_8)),
                "hello.onnx", "not an ONNX model");
        String json = "{\n  \"name\": \"resnet\",\n  \"inputs\": [{\"shape\": [1, 3, 224, 224]}],\n  \"version\": 3\n}\n";
        assertRefused(write("config.onnx", json.getBytes(StandardCharsets.UTF_8)), "config.onnx", "not an ONNX model");
    }

    @Test
    void truncatedModel() throws IOException {
        byte[] whole = TestGraphs.mixed().toByteArray();
        Path complete = write("complete.onnx", whole);
        OnnxModel.load(complete); // the whole file is fine
        assertRefused(write("half.onnx", Arrays.copyOf(whole, whole.length / 2)), "half.onnx", "truncated");
        assertRefused(write("almost.onnx", Arrays.copyOf(whole, whole.length - 1)), "almost.onnx", "truncated");
    }

    @Test
    void wellFormedProtobufThatIsNoModel() throws IOException {
        ModelProto graphless = TestGraphs.mixed().toBuilder().clearGraph().build();
        assertRefused(write("graphless.onnx", graphless), "not an ONNX model", "no graph");
        ModelProto noOpset = TestGraphs.mixed().toBuilder().clearOpsetImport().build();
        assertRefused(write("noopset.onnx", noOpset), "not an ONNX model", "operator set");
        ModelProto noIr = TestGraphs.mixed().toBuilder().clearIrVersion().build();
        assertRefused(write("noir.onnx", noIr), "not an ONNX model", "IR version");
        ModelProto noOutputs = TestGraphs.mixed().toBuilder()
                .setGraph(TestGraphs.mixed().getGraph().toBuilder().clearOutput()).build();
        assertRefused(write("nooutputs.onnx", noOutputs), "no outputs");
    }

    @Test
    void hugeDeclaredTensorWithLittleDataFailsFast() {
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            TensorProto raw = TensorProto.newBuilder().setName("giant").setDataType(DataType.FLOAT.code())
                    .addDims(1L << 40).setRawData(ByteString.copyFrom(new byte[16])).build();
            assertRefused(write("giant-raw.onnx", addModel(raw, 4)), "giant", "1099511627776", "16 bytes");

            TensorProto typed = TensorProto.newBuilder().setName("giant_typed").setDataType(DataType.FLOAT.code())
                    .addDims(1L << 20).addDims(1L << 20).addFloatData(1).addFloatData(2).build();
            assertRefused(write("giant-typed.onnx", addModel(typed, 4)), "giant_typed", "1099511627776", "2 values");

            // the same, held by a Constant node inside an If branch
            TensorProto constant = TensorProto.newBuilder().setDataType(DataType.FLOAT.code())
                    .addDims(1L << 40).setRawData(ByteString.copyFrom(new byte[4])).build();
            GraphProto branch = GraphProto.newBuilder().setName("then")
                    .addOutput(Nodes.tensorValue("c", DataType.FLOAT, 1))
                    .addNode(Nodes.node("Constant", "k", List.of(), List.of("c"), Nodes.attr("value", constant)))
                    .build();
            GraphProto graph = GraphProto.newBuilder().setName("g")
                    .addInput(Nodes.tensorValue("flag", DataType.BOOL))
                    .addOutput(Nodes.tensorValue("y", DataType.FLOAT, 1))
                    .addNode(Nodes.node("If", "if", List.of("flag"), List.of("y"),
                            Nodes.attr("then_branch", branch), Nodes.attr("else_branch", branch)))
                    .build();
            assertRefused(write("giant-constant.onnx", TestGraphs.model(graph)), "1099511627776", "4 bytes");
        });
    }

    @Test
    void dimsThatOverflow() throws IOException {
        TensorProto elements = TensorProto.newBuilder().setName("overflowing").setDataType(DataType.FLOAT.code())
                .addDims(1L << 32).addDims(1L << 32).setRawData(ByteString.copyFrom(new byte[4])).build();
        assertRefused(write("elements.onnx", addModel(elements, 1)), "overflowing", "64 bits");
        // 2^62 elements fit in a long, their 2^64 bytes do not
        TensorProto bytes = TensorProto.newBuilder().setName("too_many_bytes").setDataType(DataType.FLOAT.code())
                .addDims(1L << 31).addDims(1L << 31).setRawData(ByteString.copyFrom(new byte[4])).build();
        assertRefused(write("bytes.onnx", addModel(bytes, 1)), "too_many_bytes");
        TensorProto negative = TensorProto.newBuilder().setName("negative_dim").setDataType(DataType.FLOAT.code())
                .addDims(-4).setRawData(ByteString.copyFrom(new byte[16])).build();
        assertRefused(write("negative.onnx", addModel(negative, 4)), "negative_dim", "negative");
    }

    @Test
    void tensorOfAnUnknownType() throws IOException {
        TensorProto odd = Tensors.ofFloats("odd", new long[] {4}, new float[4]).toBuilder().setDataType(77).build();
        assertRefused(write("odd.onnx", addModel(odd, 4)), "odd", "77");
    }

    @Test
    void overTheSizeLimit() throws IOException {
        Path file = write("limited.onnx", TestGraphs.mixed());
        ModelException e = assertThrows(ModelException.class, () -> OnnxModel.load(file, new LoadLimits(1024, 1024)));
        TestGraphs.assertOneLine(e, "limited.onnx", "limit");
    }

    // ---- external data ----

    private static final float[] VALUES = {1, 2, 3, 4};

    private static byte[] valueBytes() {
        return Tensors.ofFloats("w", new long[] {4}, VALUES).getRawData().toByteArray();
    }

    /** model.onnx in {@code folder} whose weight w (4 floats) is read from {@code location}. */
    private Path externalModel(Path folder, String location, long offset, long length) throws IOException {
        TensorProto w = external(Tensors.ofFloats("w", new long[] {4}, VALUES), location, offset, length);
        Files.createDirectories(folder);
        Path file = folder.resolve("model.onnx");
        Files.write(file, addModel(w, 4).toByteArray());
        return file;
    }

    @Test
    void externalDataInsideTheFolderLoads() throws IOException {
        Path folder = dir.resolve("ok");
        Files.createDirectories(folder.resolve("sub"));
        Files.write(folder.resolve("sub/weights.bin"), valueBytes());
        OnnxModel model = OnnxModel.load(externalModel(folder, "sub/weights.bin", 0, 16));
        assertArrayEquals(VALUES, Tensors.toFloats(model.proto().getGraph().getInitializer(0)));
        // a link that stays inside the folder is fine
        Files.createSymbolicLink(folder.resolve("link.bin"), folder.resolve("sub/weights.bin"));
        model = OnnxModel.load(externalModel(folder, "link.bin", 0, 16));
        assertArrayEquals(VALUES, Tensors.toFloats(model.proto().getGraph().getInitializer(0)));
    }

    @Test
    void externalDataWithAnAbsolutePath() throws IOException {
        Path outside = write("outside/weights.bin", valueBytes());
        assertRefused(externalModel(dir.resolve("abs"), outside.toAbsolutePath().toString(), 0, 16), "'w'", "absolute");
    }

    @Test
    void externalDataWithDotDot() throws IOException {
        write("dots/weights.bin", valueBytes());
        Path folder = dir.resolve("dots/model");
        assertRefused(externalModel(folder, "../weights.bin", 0, 16), "'w'", "..");
        assertRefused(externalModel(folder, "x/../../weights.bin", 0, 16), "'w'", "..");
        assertRefused(externalModel(folder, "..\\weights.bin", 0, 16), "'w'", "..");
    }

    @Test
    void externalDataThroughALinkThatLeavesTheFolder() throws IOException {
        Path secret = write("secret/weights.bin", valueBytes());
        Path folder = dir.resolve("linked");
        Files.createDirectories(folder);
        Files.createSymbolicLink(folder.resolve("weights.bin"), secret);
        assertRefused(externalModel(folder, "weights.bin", 0, 16), "'w'", "outside");
        // a linked folder on the way is caught too
        Files.createSymbolicLink(folder.resolve("shared"), secret.getParent());
        assertRefused(externalModel(folder, "shared/weights.bin", 0, 16), "'w'", "outside");
        // and a dangling link
        Files.createSymbolicLink(folder.resolve("dangling.bin"), dir.resolve("gone.bin"));
        assertRefused(externalModel(folder, "dangling.bin", 0, 16), "'w'", "does not exist");
    }

    @Test
    void missingExternalFile() throws IOException {
        assertRefused(externalModel(dir.resolve("missing"), "weights.bin", 0, 16), "'w'", "weights.bin", "does not exist");
    }

    @Test
    void externalRangeBeyondTheEndOfTheFile() throws IOException {
        Path folder = dir.resolve("short");
        Files.createDirectories(folder);
        Files.write(folder.resolve("weights.bin"), valueBytes()); // 16 bytes
        assertRefused(externalModel(folder, "weights.bin", 8, 16), "'w'", "weights.bin", "16 bytes");
        assertRefused(externalModel(folder, "weights.bin", 100, 16), "'w'", "weights.bin", "16 bytes");
        assertRefused(externalModel(folder, "weights.bin", 100, -1), "'w'", "weights.bin");
        // a range inside the file but of the wrong size for the tensor
        assertRefused(externalModel(folder, "weights.bin", 4, 12), "'w'", "16 bytes", "12 bytes");
    }

    @Test
    void externalDataThatIsNotAFile() throws IOException {
        Path folder = dir.resolve("dirdata");
        Files.createDirectories(folder.resolve("weights.bin"));
        assertRefused(externalModel(folder, "weights.bin", 0, 16), "'w'", "not a regular file");
    }

    @Test
    void externalDataWithBadEntries() throws IOException {
        Path folder = dir.resolve("bad");
        Files.createDirectories(folder);
        Files.write(folder.resolve("weights.bin"), valueBytes());
        TensorProto noLocation = Tensors.ofFloats("w", new long[] {4}, VALUES).toBuilder().clearRawData()
                .setDataLocation(TensorProto.DataLocation.EXTERNAL).build();
        Files.write(folder.resolve("model.onnx"), addModel(noLocation, 4).toByteArray());
        assertRefused(folder.resolve("model.onnx"), "'w'", "location");

        TensorProto badOffset = Tensors.ofFloats("w", new long[] {4}, VALUES).toBuilder().clearRawData()
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(TestGraphs.entry("location", "weights.bin"))
                .addExternalData(TestGraphs.entry("offset", "zero")).build();
        Files.write(folder.resolve("model.onnx"), addModel(badOffset, 4).toByteArray());
        assertRefused(folder.resolve("model.onnx"), "'w'", "offset", "zero");
        assertEquals(16, Files.size(folder.resolve("weights.bin")));
    }
}

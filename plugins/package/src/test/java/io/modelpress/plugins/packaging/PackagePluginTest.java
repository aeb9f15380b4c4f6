package io.modelpress.plugins.packaging;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.RunnerOptions;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.SaveOptions;
import io.modelpress.model.Tensors;
import io.modelpress.spi.OptionException;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.Mnist;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.PluginTestContext;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PackagePluginTest {

    private final PackagePlugin plugin = new PackagePlugin();

    @TempDir
    Path temp;

    @Test
    void packsAndUnpacksToTheSameBytesThatRunInOnnxRuntime() throws Exception {
        OnnxModel model = MnistModels.mlp();
        PluginResult result = plugin.apply(model, PluginOptions.defaults(plugin.options()), context("step"));

        assertSame(model, result.model(), "packaging returns the model unchanged");
        Path packed = result.artifacts().get("model.onnx.zst");
        assertTrue(Files.isRegularFile(packed));
        assertEquals(Files.size(packed), result.figures().get("packaged-bytes"));
        Path reference = temp.resolve("reference.onnx");
        long onnxBytes = model.save(reference, SaveOptions.inline()).totalBytes();
        assertEquals(onnxBytes, result.figures().get("onnx-bytes"));

        Path unpacked = temp.resolve("out/model.onnx");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = Unpacker.run(new String[] {packed.toString(), unpacked.toString()}, print(out), print(new ByteArrayOutputStream()));
        assertEquals(0, code);
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("unpacked"));
        assertArrayEquals(Files.readAllBytes(reference), Files.readAllBytes(unpacked), "byte-identical model file");
        assertSameOutputs(model, unpacked);
    }

    @Test
    void theStandardZstdToolUnpacksIt() throws Exception {
        Path zstd = Path.of("/usr/bin/zstd");
        Assumptions.assumeTrue(Files.isExecutable(zstd), "the zstd command is not installed");
        OnnxModel model = MnistModels.mlp();
        PluginOptions options = PluginOptions.resolve(plugin.options(), Map.of("level", "22", "long", "true"));
        Path packed = plugin.apply(model, options, context("step")).artifacts().get("model.onnx.zst");
        Path unpacked = temp.resolve("by-zstd.onnx");

        Process process = new ProcessBuilder(zstd.toString(), "-d", "-q", packed.toString(), "-o", unpacked.toString())
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.waitFor(), output);
        assertArrayEquals(model.toByteArray(), Files.readAllBytes(unpacked));
        assertSameOutputs(model, unpacked);
    }

    @Test
    void aPrunedModelReallyShrinks() throws Exception {
        OnnxModel dense = MnistModels.mlp();
        SplittableRandom random = new SplittableRandom(3);
        OnnxModel sparse = mapWeights(dense, value -> random.nextDouble() < 0.9 ? 0f : value);

        double denseBytes = packedBytes(dense, "dense");
        double sparseBytes = packedBytes(sparse, "sparse");
        double onnxBytes = sparse.serializedSize();
        assertTrue(onnxBytes / denseBytes < 1.3, "random fp32 weights hardly compress: " + onnxBytes / denseBytes);
        assertTrue(onnxBytes / sparseBytes > 4, "90% zeros must pack at least 4x smaller, got " + onnxBytes / sparseBytes);
    }

    @Test
    void aWeightSharedModelReallyShrinks() throws Exception {
        OnnxModel dense = MnistModels.mlp();
        // 16 shared values per model, as 4-bit k-means clustering leaves them
        OnnxModel shared = mapWeights(dense, value -> Math.round(value * 40) / 40f);
        double ratio = shared.serializedSize() / packedBytes(shared, "shared");
        assertTrue(ratio > 3, "16 distinct values per tensor must pack at least 3x smaller, got " + ratio);
    }

    @Test
    void reportsProgressFromStartToDone() throws Exception {
        PluginTestContext context = context("progress");
        plugin.apply(MnistModels.mlp(), PluginOptions.defaults(plugin.options()), context);
        List<Double> fractions = context.progressReports().stream().map(PluginTestContext.Progress::fraction).toList();
        assertEquals(0.0, fractions.get(0));
        assertEquals(1.0, fractions.get(fractions.size() - 1));
        for (int i = 1; i < fractions.size(); i++) {
            assertTrue(fractions.get(i) >= fractions.get(i - 1), "progress never goes back: " + fractions);
        }
    }

    @Test
    void stopsWhenCancelled() {
        PluginTestContext cancelled = PluginTestContext.in(temp);
        cancelled.cancel();
        assertThrows(CancellationException.class, () -> plugin.apply(MnistModels.mlp(),
                PluginOptions.defaults(plugin.options()), cancelled));
    }

    @Test
    void refusesLevelsOutOfRange() {
        OptionException error = assertThrows(OptionException.class,
                () -> PluginOptions.resolve(plugin.options(), Map.of("level", "23")));
        assertTrue(error.getMessage().contains("'level'") && error.getMessage().contains("1..22"), error.getMessage());
    }

    @Test
    void unpackerExplainsBadUse() throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, Unpacker.run(new String[] {"only-one"}, print(new ByteArrayOutputStream()), print(err)));
        assertTrue(err.toString(StandardCharsets.UTF_8).startsWith("usage:"));

        assertEquals(2, Unpacker.run(new String[] {temp.resolve("missing.zst").toString(), "x.onnx"},
                print(new ByteArrayOutputStream()), print(new ByteArrayOutputStream())));

        Path notZstd = Files.writeString(temp.resolve("model.onnx.zst"), "this is not zstd");
        err.reset();
        Path target = temp.resolve("never.onnx");
        assertEquals(1, Unpacker.run(new String[] {notZstd.toString(), target.toString()},
                print(new ByteArrayOutputStream()), print(err)));
        String message = err.toString(StandardCharsets.UTF_8).strip();
        assertTrue(message.startsWith("cannot unpack ") && message.lines().count() == 1, message);
        assertTrue(Files.notExists(target), "nothing is left behind when unpacking fails");
        try (var files = Files.list(temp)) {
            assertTrue(files.noneMatch(file -> file.getFileName().toString().startsWith(".unpack-")));
        }
    }

    @Test
    void declaresItsOptions() throws PluginException {
        assertEquals("package", plugin.id());
        assertEquals(io.modelpress.spi.Technique.PACKAGING, plugin.technique());
        assertEquals("19", PluginOptions.defaults(plugin.options()).asText().get("level"));
        assertEquals(io.modelpress.spi.PluginSpi.VERSION, plugin.spiVersion());
    }

    private double packedBytes(OnnxModel model, String name) throws Exception {
        PluginResult result = plugin.apply(model, PluginOptions.defaults(plugin.options()), context(name));
        double bytes = result.figures().get("packaged-bytes");
        assertEquals(model.serializedSize() / bytes, result.figures().get("ratio"), 1e-9);
        return bytes;
    }

    private PluginTestContext context(String name) throws Exception {
        return PluginTestContext.in(Files.createDirectories(temp.resolve(name)));
    }

    /** The model with every float initializer's values mapped. */
    private static OnnxModel mapWeights(OnnxModel model, UnaryOperator<Float> map) {
        GraphProto.Builder graph = model.proto().getGraph().toBuilder();
        for (int i = 0; i < graph.getInitializerCount(); i++) {
            TensorProto tensor = graph.getInitializer(i);
            float[] values = Tensors.toFloats(tensor);
            for (int v = 0; v < values.length; v++) {
                values[v] = map.apply(values[v]);
            }
            graph.setInitializer(i, Tensors.ofFloats(tensor.getName(), Tensors.dims(tensor), values));
        }
        return model.withProto(model.proto().toBuilder().setGraph(graph).build());
    }

    private static void assertSameOutputs(OnnxModel model, Path file) {
        TensorData digits = TensorData.ofFloats(new long[] {20, Mnist.PIXELS}, Mnist.load().images(9000, 9020));
        try (OrtRunner expected = OrtRunner.open(model); OrtRunner actual = OrtRunner.open(file, RunnerOptions.DEFAULT)) {
            assertEquals(expected.outputNames(), actual.outputNames());
            assertArrayEquals(expected.run(Map.of("pixels", digits)).get("logits").toFloats(),
                    actual.run(Map.of("pixels", digits)).get("logits").toFloats());
        }
    }

    private static PrintStream print(ByteArrayOutputStream buffer) {
        return new PrintStream(buffer, true, StandardCharsets.UTF_8);
    }
}

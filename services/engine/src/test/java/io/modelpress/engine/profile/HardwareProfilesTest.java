package io.modelpress.engine.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.Precision;
import io.modelpress.spi.QuantizedFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class HardwareProfilesTest {

    private static final long MIB = 1024L * 1024L;
    private static final String SOURCE = "profiles/edge.yaml";

    /** A valid profile; the refusal cases each break one thing in it. */
    private static final String EDGE = """
            id: edge
            description: Test board
            precisions: [fp32, int8]
            quantized-format: qdq
            execution-provider: xnnpack
            budgets:
              memory-mb: 256
              size-mb: 20
              latency-ms: 50
            max-accuracy-drop: 2
            batch-size: 1
            threads: 2
            """;

    // ---- built-ins ------------------------------------------------------------------------------

    @Test
    void theFiveBuiltInsLoadSortedById() {
        HardwareProfiles profiles = HardwareProfiles.builtIn();

        assertEquals(List.of("arm64-edge", "mcu", "nvidia-fp16", "wasm", "x86-vnni"), profiles.ids());
        assertEquals(profiles.ids(), profiles.all().stream().map(HardwareProfile::id).toList());
        assertEquals(Set.of(), profiles.overridden());
        assertEquals("classpath:io/modelpress/engine/profiles/mcu.yaml", profiles.source("mcu").orElseThrow());
        profiles.all().forEach(profile -> assertFalse(profile.description().isBlank(), profile.id()));
    }

    @Test
    void x86VnniRunsIntegerKernelsInOperatorFormOnTheCpu() {
        HardwareProfile x86 = HardwareProfiles.builtIn().require("x86-vnni");

        assertEquals(Set.of(Precision.FP32, Precision.INT8, Precision.INT4), x86.precisions());
        assertEquals(QuantizedFormat.OPERATOR, x86.quantizedFormat());
        assertEquals("cpu", x86.executionProvider());
        assertEquals(OptionalDouble.of(100), x86.latencyBudgetMillis());
        assertEquals(OptionalLong.empty(), x86.memoryBudgetBytes());
        assertEquals(OptionalLong.empty(), x86.sizeBudgetBytes());
        assertEquals(1.0, x86.maxAccuracyDrop(), "percentage points");
        assertEquals(1, x86.batchSize());
        assertEquals(0, x86.threads());
    }

    @Test
    void arm64EdgeHasMemoryAndSizeBudgetsInMebibytes() {
        HardwareProfile arm = HardwareProfiles.builtIn().require("arm64-edge");

        assertEquals(Set.of(Precision.FP32, Precision.FP16, Precision.INT8), arm.precisions());
        assertEquals(QuantizedFormat.QDQ, arm.quantizedFormat());
        assertEquals("xnnpack", arm.executionProvider());
        assertEquals(OptionalLong.of(512 * MIB), arm.memoryBudgetBytes());
        assertEquals(OptionalLong.of(100 * MIB), arm.sizeBudgetBytes());
        assertEquals(OptionalDouble.of(200), arm.latencyBudgetMillis());
        assertEquals(2.0, arm.maxAccuracyDrop(), "percentage points");
        assertEquals(2, arm.threads());
    }

    @Test
    void nvidiaFp16HasNoInt8() {
        HardwareProfile gpu = HardwareProfiles.builtIn().require("nvidia-fp16");

        assertEquals(Set.of(Precision.FP16, Precision.BF16, Precision.FP32), gpu.precisions());
        assertFalse(gpu.runs(Precision.INT8));
        assertEquals(QuantizedFormat.QDQ, gpu.quantizedFormat());
        assertEquals("cuda", gpu.executionProvider());
        assertEquals(OptionalLong.of(8192 * MIB), gpu.memoryBudgetBytes());
        assertEquals(OptionalLong.empty(), gpu.sizeBudgetBytes());
        assertEquals(8, gpu.batchSize());
    }

    @Test
    void mcuIsInt8OnlyWithAHardOneMebibyteSizeBudget() {
        HardwareProfile mcu = HardwareProfiles.builtIn().require("mcu");

        assertEquals(Set.of(Precision.INT8), mcu.precisions());
        assertEquals(QuantizedFormat.QDQ, mcu.quantizedFormat());
        assertEquals("cpu", mcu.executionProvider());
        assertEquals(OptionalLong.of(1_048_576), mcu.sizeBudgetBytes());
        assertEquals(OptionalLong.of(524_288), mcu.memoryBudgetBytes(), "memory-mb: 0.5 is 512 KiB");
        assertEquals(1, mcu.threads());
        assertTrue(mcu.requireRealData(), "a microcontroller build is never judged on generated inputs alone");
    }

    @Test
    void fidelityFloorsAreReadAndAbsentOnesAreEmpty() {
        HardwareProfile floored = HardwareProfiles.parse("edge.yaml", EDGE + "fidelity-floors: {mean-cosine: 0.995, worst-cosine: 0.97}\n");
        assertEquals(java.util.OptionalDouble.of(0.995), floored.minMeanCosine());
        assertEquals(java.util.OptionalDouble.of(0.97), floored.minWorstCosine());
        HardwareProfile plain = HardwareProfiles.builtIn().require("x86-vnni");
        assertTrue(plain.minMeanCosine().isEmpty() && !plain.requireRealData());
    }

    @Test
    void wasmHasADownloadSizeBudget() {
        HardwareProfile wasm = HardwareProfiles.builtIn().require("wasm");

        assertEquals(Set.of(Precision.FP32, Precision.INT8), wasm.precisions());
        assertEquals(QuantizedFormat.OPERATOR, wasm.quantizedFormat());
        assertEquals("wasm", wasm.executionProvider());
        assertEquals(OptionalLong.of(50 * MIB), wasm.sizeBudgetBytes());
    }

    @Test
    void eachBuiltInResourceIsNamedAfterItsId() {
        HardwareProfiles profiles = HardwareProfiles.builtIn();
        for (HardwareProfile profile : profiles.all()) {
            assertEquals("classpath:" + HardwareProfiles.BUILT_IN_FOLDER + profile.id() + ".yaml",
                    profiles.source(profile.id()).orElseThrow());
        }
    }

    @Test
    void theSchemaDefaultsAreTheOnesTheCodeApplies() {
        var properties = ProfileSchema.get().document().path("properties");

        assertEquals(ProfileParser.DEFAULT_BATCH_SIZE, properties.path("batch-size").path("default").asInt(-1));
        assertEquals(ProfileParser.DEFAULT_THREADS, properties.path("threads").path("default").asInt(-1));
        assertTrue(properties.path("budgets").path("properties").path("size-mb").path("description").asText()
                .contains("1,048,576 bytes"), "the schema documents the unit");
    }

    @Test
    void thePublishedExampleIsValid() throws IOException {
        // Surefire runs in the module folder; the example lives in the top-level schemas/ folder.
        Path example = Path.of("../../schemas/examples/hardware-profile.example.yaml");

        HardwareProfile profile = HardwareProfiles.parse(example.toString(), Files.readString(example));

        assertEquals("kiosk-arm64", profile.id());
        assertEquals(OptionalLong.of(256 * MIB), profile.memoryBudgetBytes());
        assertEquals(1.5, profile.maxAccuracyDrop(), "percentage points");
        assertEquals(java.util.OptionalDouble.of(0.99), profile.minMeanCosine());
    }

    // ---- parsing ------------------------------------------------------------------------------

    @Test
    void parsesYamlWithDefaults() {
        HardwareProfile profile = HardwareProfiles.parse(SOURCE, """
                id: tiny
                description: "  Minimal profile  "
                precisions: [int8]
                quantized-format: operator
                execution-provider: cpu
                max-accuracy-drop: 0
                """);

        assertEquals("tiny", profile.id());
        assertEquals("Minimal profile", profile.description());
        assertEquals(1, profile.batchSize());
        assertEquals(0, profile.threads());
        assertEquals(OptionalLong.empty(), profile.memoryBudgetBytes());
        assertEquals(OptionalLong.empty(), profile.sizeBudgetBytes());
        assertEquals(OptionalDouble.empty(), profile.latencyBudgetMillis());
    }

    @Test
    void aFoldedDescriptionIsOneLine() {
        HardwareProfile profile = HardwareProfiles.parse(SOURCE,
                EDGE.replace("description: Test board", "description: >\n  Test board on\n  two source lines"));

        assertEquals("Test board on two source lines", profile.description());
    }

    @Test
    void parsesJson() {
        HardwareProfile profile = HardwareProfiles.parse("profiles/gpu.json", """
                {"id": "gpu", "description": "A GPU", "precisions": ["fp16"], "quantized-format": "qdq",
                 "execution-provider": "cuda", "budgets": {"latency-ms": 12.5}, "max-accuracy-drop": 0.005}
                """);

        assertEquals(OptionalDouble.of(12.5), profile.latencyBudgetMillis());
        assertEquals(0.005, profile.maxAccuracyDrop());
    }

    @Test
    void fractionalMebibytesRoundDownToWholeBytes() {
        HardwareProfile profile = HardwareProfiles.parse(SOURCE, EDGE.replace("size-mb: 20", "size-mb: 0.1"));

        assertEquals(OptionalLong.of(104_857), profile.sizeBudgetBytes(), "0.1 MiB = 104,857.6 bytes");
    }

    static Stream<Arguments> badProfiles() {
        return Stream.of(
                Arguments.of("wrong precision", EDGE.replace("[fp32, int8]", "[fp32, int3]"),
                        "profiles/edge.yaml: precisions[1]: 'int3' is not one of fp32, fp16, bf16, int8, int4"),
                Arguments.of("wrong format", EDGE.replace("quantized-format: qdq", "quantized-format: QDQ"),
                        "profiles/edge.yaml: quantized-format: 'QDQ' is not one of qdq, operator"),
                Arguments.of("wrong provider", EDGE.replace("xnnpack", "cpux"),
                        "profiles/edge.yaml: execution-provider: 'cpux' is not one of cpu, cuda, tensorrt,"),
                Arguments.of("negative budget", EDGE.replace("size-mb: 20", "size-mb: -5"),
                        "profiles/edge.yaml: budgets.size-mb: must be greater than 0, not -5 (in MiB)"),
                Arguments.of("zero budget", EDGE.replace("latency-ms: 50", "latency-ms: 0"),
                        "profiles/edge.yaml: budgets.latency-ms: must be greater than 0, not 0"),
                Arguments.of("budget as text", EDGE.replace("memory-mb: 256", "memory-mb: 256MB"),
                        "profiles/edge.yaml: budgets.memory-mb: must be a number, not '256MB'"),
                Arguments.of("accuracy drop over a hundred points", EDGE.replace("max-accuracy-drop: 2", "max-accuracy-drop: 150"),
                        "profiles/edge.yaml: max-accuracy-drop: must be at most 100, not 150 (in percentage points: 1 is "
                                + "one point, 0.5 half a point)"),
                Arguments.of("batch size zero", EDGE.replace("batch-size: 1", "batch-size: 0"),
                        "profiles/edge.yaml: batch-size: must be at least 1, not 0"),
                Arguments.of("fractional threads", EDGE.replace("threads: 2", "threads: 1.5"),
                        "profiles/edge.yaml: threads: must be an integer, not 1.5"),
                Arguments.of("unknown key", EDGE + "latency: 50\n",
                        "profiles/edge.yaml: unknown field 'latency' (valid: id, description, precisions,"),
                Arguments.of("unknown budget", EDGE.replace("latency-ms: 50", "latency: 50"),
                        "profiles/edge.yaml: budgets: unknown field 'latency' (valid: memory-mb, size-mb, latency-ms)"),
                Arguments.of("missing id", EDGE.replace("id: edge\n", ""),
                        "profiles/edge.yaml: missing required field 'id'"),
                Arguments.of("missing precisions", EDGE.replace("precisions: [fp32, int8]\n", ""),
                        "profiles/edge.yaml: missing required field 'precisions'"),
                Arguments.of("no precisions", EDGE.replace("[fp32, int8]", "[]"),
                        "profiles/edge.yaml: precisions: must list at least one value"),
                Arguments.of("repeated precision", EDGE.replace("[fp32, int8]", "[fp32, int8, fp32]"),
                        "profiles/edge.yaml: precisions: lists 'fp32' more than once"),
                Arguments.of("bad id", EDGE.replace("id: edge", "id: Edge_Board"),
                        "profiles/edge.yaml: id: 'Edge_Board' is not a valid id"),
                Arguments.of("two-line description", EDGE.replace("description: Test board", "description: |\n  Two\n  lines"),
                        "profiles/edge.yaml: description: must be one line"),
                Arguments.of("not a mapping", "- fp32\n- int8\n",
                        "profiles/edge.yaml: must be a mapping of fields, not a list"),
                Arguments.of("malformed YAML", EDGE.replace("  size-mb: 20", "  size-mb: 20\n    bad: [1"),
                        "profiles/edge.yaml: not valid YAML at line 9, column 8: mapping values are not allowed here"),
                Arguments.of("unterminated quote", EDGE.replace("Test board", "'Test board"),
                        "profiles/edge.yaml: not valid YAML at line "),
                Arguments.of("repeated key", EDGE + "threads: 4\n",
                        "profiles/edge.yaml: not valid YAML at line 13, column 8: Duplicate field 'threads'"),
                Arguments.of("empty file", "# nothing here\n",
                        "profiles/edge.yaml: the file is empty"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badProfiles")
    void aBadProfileIsRefusedNamingFileFieldAndReason(String kind, String text, String expected) {
        ProfileException e = assertThrows(ProfileException.class, () -> HardwareProfiles.parse(SOURCE, text));

        assertTrue(e.getMessage().startsWith(expected), () -> "expected '" + expected + "...' but was: " + e.getMessage());
        assertOneLineWithoutInternals(e.getMessage());
    }

    @Test
    void malformedYamlSaysWhereTheProblemIs() {
        ProfileException e = assertThrows(ProfileException.class,
                () -> HardwareProfiles.parse(SOURCE, "id: edge\ndescription: a\n  precisions: [int8]\n"));

        assertEquals("profiles/edge.yaml: not valid YAML at line 3, column 13: mapping values are not allowed here",
                e.getMessage());
    }

    @Test
    void malformedJsonSaysWhereTheProblemIs() {
        ProfileException e = assertThrows(ProfileException.class,
                () -> HardwareProfiles.parse("profiles/gpu.json", "{\"id\": \"gpu\",\n \"precisions\": [\"fp16\",]}"));

        assertTrue(e.getMessage().startsWith("profiles/gpu.json: not valid JSON at line 2, column "), e.getMessage());
        assertOneLineWithoutInternals(e.getMessage());
    }

    @Test
    void everyProblemOfAFileIsReportedAtOnce() {
        String text = EDGE.replace("id: edge\n", "").replace("size-mb: 20", "size-mb: -1").replace("[fp32, int8]", "[int3]");

        ProfileException e = assertThrows(ProfileException.class, () -> HardwareProfiles.parse(SOURCE, text));

        assertEquals(List.of(
                "profiles/edge.yaml: missing required field 'id'",
                "profiles/edge.yaml: budgets.size-mb: must be greater than 0, not -1 (in MiB)",
                "profiles/edge.yaml: precisions[0]: 'int3' is not one of fp32, fp16, bf16, int8, int4"), e.problems());
        assertEquals(String.join("; ", e.problems()), e.getMessage());
    }

    // ---- the user folder ---------------------------------------------------------------------

    @Test
    void aUserFolderAddsProfilesAndOverridesBuiltIns(@TempDir Path folder) throws IOException {
        Files.writeString(folder.resolve("edge.yaml"), EDGE);
        Files.writeString(folder.resolve("my-x86.yml"), EDGE.replace("id: edge", "id: x86-vnni").replace("threads: 2", "threads: 8"));
        Files.writeString(folder.resolve("gpu.json"), """
                {"id": "gpu", "description": "A GPU", "precisions": ["fp16"], "quantized-format": "qdq",
                 "execution-provider": "cuda", "max-accuracy-drop": 0.01}
                """);
        // Not profiles: other extensions, hidden files, sub-folders.
        Files.writeString(folder.resolve("README.md"), "profiles for the lab");
        Files.writeString(folder.resolve("._edge.yaml"), "\0\0binary resource fork");
        Files.writeString(Files.createDirectories(folder.resolve("old")).resolve("x.yaml"), "not: [valid");

        HardwareProfiles profiles = HardwareProfiles.load(folder);

        assertEquals(List.of("arm64-edge", "edge", "gpu", "mcu", "nvidia-fp16", "wasm", "x86-vnni"), profiles.ids());
        assertEquals(Set.of("x86-vnni"), profiles.overridden());
        assertEquals(8, profiles.require("x86-vnni").threads());
        assertEquals(folder.resolve("my-x86.yml").toString(), profiles.source("x86-vnni").orElseThrow());
        assertEquals(OptionalLong.of(20 * MIB), profiles.require("edge").sizeBudgetBytes());
        assertEquals("cuda", profiles.require("gpu").executionProvider());
        // The built-in registry is a separate object and keeps its own x86-vnni.
        assertEquals(0, HardwareProfiles.builtIn().require("x86-vnni").threads());
    }

    @Test
    void twoUserFilesWithTheSameIdAreRefusedNamingBoth(@TempDir Path folder) throws IOException {
        Files.writeString(folder.resolve("a.yaml"), EDGE);
        Files.writeString(folder.resolve("b.yaml"), EDGE.replace("threads: 2", "threads: 4"));

        ProfileException e = assertThrows(ProfileException.class, () -> HardwareProfiles.load(folder));

        assertEquals(folder.resolve("b.yaml") + ": id 'edge' is already declared by " + folder.resolve("a.yaml"),
                e.getMessage());
    }

    @Test
    void everyBadFileInAFolderIsReported(@TempDir Path folder) throws IOException {
        Files.writeString(folder.resolve("a.yaml"), EDGE.replace("size-mb: 20", "size-mb: -5"));
        Files.writeString(folder.resolve("b.yaml"), EDGE.replace("id: edge", "id: other") + "latency: 3\n");
        Files.write(folder.resolve("c.yaml"), new byte[] {(byte) 0xC3, (byte) 0x28});

        ProfileException e = assertThrows(ProfileException.class, () -> HardwareProfiles.load(folder));

        assertEquals(3, e.problems().size(), e.getMessage());
        assertTrue(e.problems().get(0).startsWith(folder.resolve("a.yaml") + ": budgets.size-mb: must be greater than 0"));
        assertTrue(e.problems().get(1).startsWith(folder.resolve("b.yaml") + ": unknown field 'latency'"));
        assertEquals(folder.resolve("c.yaml") + ": cannot read the file: it is not UTF-8 text", e.problems().get(2));
        assertOneLineWithoutInternals(e.getMessage());
    }

    @Test
    void aMissingUserFolderIsRefused(@TempDir Path folder) {
        Path missing = folder.resolve("nope");

        ProfileException e = assertThrows(ProfileException.class, () -> HardwareProfiles.load(missing));

        assertEquals(missing + ": the profile folder does not exist or is not a folder", e.getMessage());
    }

    @Test
    void anEmptyUserFolderGivesTheBuiltIns(@TempDir Path folder) {
        assertEquals(HardwareProfiles.builtIn().all(), HardwareProfiles.load(folder).all());
    }

    // ---- look-up ------------------------------------------------------------------------------

    @Test
    void anUnknownIdListsTheKnownOnes() {
        HardwareProfiles profiles = HardwareProfiles.builtIn();

        ProfileException e = assertThrows(ProfileException.class, () -> profiles.require("x86"));

        assertEquals("unknown profile 'x86'; known profiles: arm64-edge, mcu, nvidia-fp16, wasm, x86-vnni", e.getMessage());
        assertTrue(profiles.find("x86").isEmpty());
        assertTrue(profiles.find("mcu").isPresent());
    }

    @Test
    void aRegistryCanBeBuiltFromProfilesInCode() {
        HardwareProfile edge = HardwareProfiles.parse(SOURCE, EDGE);

        HardwareProfiles profiles = HardwareProfiles.of(List.of(edge));

        assertEquals(List.of(edge), profiles.all());
        ProfileException e = assertThrows(ProfileException.class, () -> HardwareProfiles.of(List.of(edge, edge)));
        assertEquals("profile id 'edge' is given twice", e.getMessage());
    }

    private static void assertOneLineWithoutInternals(String message) {
        assertFalse(message.contains("\n"), () -> "more than one line: " + message);
        assertFalse(message.contains("$."), () -> "networknt path syntax: " + message);
        assertFalse(message.contains("Exception"), () -> "an exception's name: " + message);
        assertFalse(message.contains("Source:"), () -> "Jackson's source description: " + message);
    }
}

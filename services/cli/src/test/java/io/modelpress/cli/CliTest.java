package io.modelpress.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.fasterxml.jackson.databind.JsonNode;
import io.modelpress.engine.Reports;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.SaveOptions;
import io.modelpress.testkit.RealModels;
import io.modelpress.testkit.TestModels;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The command line as a user meets it: output, exit codes, and one-line reasons for bad input. */
@Timeout(value = 120, unit = TimeUnit.SECONDS) // a guard against hangs, not a performance check
class CliTest {

    @TempDir
    Path temp;

    record Run(int exit, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = ModelpressCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void inspectSummarisesARealModel() {
        Path model = RealModels.SILERO_VAD_V4.copyTo(temp);
        Run run = run("inspect", model.toString());
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("input float[batch, sequence]"), run.out());
        assertTrue(run.out().contains("If 9"), run.out());
        assertTrue(run.out().contains("LSTM 8"), run.out());
        assertTrue(run.out().contains("sha256 a35ebf52fd3ce5f1469b2a36158dba761bc47b973ea3382b3186ca15b1f5af28"), run.out());
    }

    @Test
    void inspectJsonListsEveryWeight() throws IOException {
        Path model = RealModels.OCR_CLASSIFIER.copyTo(temp);
        Run run = run("inspect", "--json", model.toString());
        assertEquals(0, run.exit(), run.err());
        JsonNode json = Reports.json().readTree(run.out());
        JsonNode summary = json.get("summary");
        assertTrue(summary.get("parameters").asLong() > 100_000);
        int tensors = 0;
        for (JsonNode total : summary.get("byType")) {
            tensors += total.get("tensors").asInt();
        }
        assertEquals(summary.get("weights").size(), tensors);
        assertTrue(summary.get("weights").get(0).get("storage").asText().equals("constant_node"),
                "PaddleOCR keeps its weights in Constant nodes");
    }

    @Test
    void compressWritesAModelThatRunsAndAnHonestReport() throws IOException {
        Path model = temp.resolve("mlp.onnx");
        TestModels.mlp(16, 32, 8, 3).save(model, SaveOptions.inline());
        Path out = temp.resolve("out");
        Run run = run("compress", model.toString(), "--profile", "x86-vnni", "--plugin", "graph-cleanup", "--out",
                out.toString());
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("runs in ONNX Runtime: yes"), run.out());
        JsonNode report = Reports.json().readTree(out.resolve("report.json").toFile());
        assertEquals("unverified", report.get("status").asText(), "no data: generated inputs alone judged it");
        assertEquals("generated-inputs", report.get("judging").get("judgedOn").asText());
        assertTrue(run.out().contains("judged on: generated-inputs") && run.out().contains("status: unverified")
                && run.out().contains("hint: only generated inputs judged this result"), run.out());
        assertEquals("x86-vnni", report.get("profile").asText());
        assertEquals("graph-cleanup", report.get("plan").get(0).get("plugin").asText());
        assertEquals("true", report.get("plan").get(0).get("options").get("dead-nodes").asText());
        assertTrue(report.get("compressed").get("bytes").asLong() < report.get("original").get("bytes").asLong());
        JsonNode fidelity = report.get("fidelity").get("outputs").get(0);
        assertEquals(1.0, fidelity.get("meanCosine").asDouble(), 1e-9);
        assertEquals(0.0, fidelity.get("maxAbsError").asDouble());
        OnnxModel written = OnnxModel.load(out.resolve("model.onnx"));
        assertEquals(report.get("compressed").get("digest").asText(), written.sourceDigest().orElseThrow());
    }

    @Test
    void benchAndCompressPrintTheSameFidelityForTheSamePair() throws IOException {
        Path model = temp.resolve("mlp.onnx");
        TestModels.mlp(16, 32, 8, 3).save(model, SaveOptions.inline());
        Path out = temp.resolve("int8");
        Run compress = run("compress", model.toString(), "--profile", "x86-vnni", "--plugin", "int8-dynamic", "--no-bench",
                "--out", out.toString());
        assertEquals(0, compress.exit(), compress.err());
        Run bench = run("bench", model.toString(), out.resolve("model.onnx").toString(), "--profile", "x86-vnni",
                "--iterations", "3");
        assertEquals(0, bench.exit(), bench.err());
        List<String> compressed = fidelityLines(compress.out());
        assertFalse(compressed.isEmpty(), compress.out());
        assertEquals(compressed, fidelityLines(bench.out()), "the same generated inputs give the same figures");
    }

    @Test
    void benchTimesPeersInTheSameRoundsAndWritesACsv() throws IOException {
        Path model = temp.resolve("mlp.onnx");
        TestModels.mlp(16, 32, 8, 3).save(model, SaveOptions.inline());
        Path wide = temp.resolve("wide.onnx");
        TestModels.mlp(16, 256, 8, 3).save(wide, SaveOptions.inline());
        Path out = temp.resolve("int8");
        assertEquals(0, run("compress", model.toString(), "--profile", "x86-vnni", "--plugin", "int8-dynamic",
                "--no-bench", "--quiet", "--out", out.toString()).exit());
        Path csv = temp.resolve("bench.csv");

        Run bench = run("bench", model.toString(), out.resolve("model.onnx").toString(), wide.toString(),
                "--peer", "again=" + model, "--batch", "3", "--iterations", "5", "--csv", csv.toString());

        assertEquals(0, bench.exit(), bench.err());
        List<String> lines = Files.readAllLines(csv);
        assertEquals(5, lines.size(), lines::toString);
        assertTrue(lines.get(0).startsWith("label,file,inputs,batch,threads,rounds,stable,p10_ms,median_ms"), lines.get(0));
        List<String> labels = lines.stream().skip(1).map(line -> line.split(",")[0]).toList();
        assertEquals(List.of("original", "model", "wide", "again"), labels, "two others go by file name, the peer by its label");
        List<String> rounds = lines.stream().skip(1).map(line -> line.split(",")[5]).distinct().toList();
        assertEquals(1, rounds.size(), "every model ran in every round: " + lines);
        assertTrue(Integer.parseInt(rounds.get(0)) >= 5);
        assertTrue(lines.get(1).contains(",x[3x16],3,"), "generated at the asked batch: " + lines.get(1));
        assertTrue(bench.out().contains("wide against original:"), bench.out());
    }

    @Test
    void benchRefusesALabelTwiceAndANonPositiveBatch() {
        Path model = temp.resolve("mlp.onnx");
        TestModels.mlp(4, 4, 2, 3).save(model, SaveOptions.inline());
        Run twice = run("bench", model.toString(), "--peer", "original=" + model);
        assertEquals(ModelpressCli.BAD_INPUT, twice.exit());
        assertTrue(twice.err().contains("two models are labelled 'original'"), twice.err());
        Run zero = run("bench", model.toString(), "--batch", "0");
        assertTrue(zero.err().contains("--batch must be at least 1"), zero.err());
    }

    private static List<String> fidelityLines(String out) {
        return out.lines().filter(line -> line.startsWith("fidelity ") || line.startsWith("  measured on ")).toList();
    }

    @Test
    void theAccuracyDropIsInPointsAndAPlannerThatKeepsTheOriginalSaysWhatWouldHelp() throws IOException {
        Path model = temp.resolve("mlp.onnx");
        TestModels.mlp(16, 32, 8, 3).save(model, SaveOptions.inline());
        Run tooMuch = run("compress", model.toString(), "--profile", "x86-vnni", "--max-accuracy-drop", "150", "--out",
                temp.resolve("never").toString());
        assertEquals(ModelpressCli.BAD_INPUT, tooMuch.exit());
        assertTrue(tooMuch.err().contains("--max-accuracy-drop is in percentage points from 0 to 100 (1 = one point), not 150"),
                tooMuch.err());

        Path out = temp.resolve("kept");
        Run kept = run("compress", model.toString(), "--profile", "x86-vnni", "--max-accuracy-drop", "2", "--max-size-mb",
                "0.0001", "--time-limit", "5m", "--quiet", "--out", out.toString());
        assertEquals(ModelpressCli.KEPT_ORIGINAL, kept.exit(), kept.out() + kept.err());
        assertTrue(kept.out().contains("status: kept-original"), kept.out());
        assertTrue(kept.out().contains("hint: nothing met the budget;") && kept.out().contains("the size budget to"),
                kept.out());
        JsonNode report = Reports.json().readTree(out.resolve("report.json").toFile());
        assertEquals("kept-original", report.get("status").asText());
        assertEquals(2.0, report.get("planning").get("budget").get("maxAccuracyDrop").asDouble(), "points, as given");
        assertTrue(Files.exists(out.resolve("model.onnx")), "the original is the output");
    }

    @Test
    void aPlanTheTimeLimitCutListsTheCandidatesItLeftUntried() throws IOException {
        Path model = temp.resolve("mlp.onnx");
        TestModels.mlp(16, 32, 8, 3).save(model, SaveOptions.inline());
        Path out = temp.resolve("cut");
        Run cut = run("compress", model.toString(), "--profile", "x86-vnni", "--time-limit", "0s", "--quiet", "--out",
                out.toString());
        assertEquals(ModelpressCli.KEPT_ORIGINAL, cut.exit(), cut.out() + cut.err());
        assertTrue(cut.out().contains("untried, the time limit ran out first: #0, #1"), cut.out());
        assertTrue(cut.out().contains("the time limit ran out before #0"), cut.out());
    }

    @Test
    void everyCommandExplainsItselfWithHelp() {
        List<List<String>> commands = new ArrayList<>();
        collect(new picocli.CommandLine(new ModelpressCli()), new ArrayList<>(), commands);
        assertTrue(commands.contains(List.of("compress")) && commands.contains(List.of("demo", "register")), commands::toString);
        for (List<String> command : commands) {
            List<String> args = new ArrayList<>(command);
            args.add("--help");
            Run run = run(args.toArray(String[]::new));
            assertEquals(0, run.exit(), () -> command + ": " + run.err());
            assertTrue(run.out().startsWith("Usage: modelpress " + String.join(" ", command)), () -> command + ": " + run.out());
        }
    }

    private static void collect(picocli.CommandLine command, List<String> path, List<List<String>> all) {
        command.getSubcommands().forEach((name, sub) -> {
            if (name.equals("help")) {
                return;
            }
            List<String> next = new ArrayList<>(path);
            next.add(name);
            all.add(next);
            collect(sub, next, all);
        });
    }

    @Test
    void badUsageNamesTheCommandWhoseHelpToRead() {
        Run run = run("demo", "register");
        assertEquals(ModelpressCli.BAD_INPUT, run.exit());
        assertTrue(run.err().contains("'MODEL'") && run.err().contains("see 'modelpress demo register --help'"), run.err());
    }

    @Test
    void pluginsAndProfilesAreListed() {
        Run plugins = run("plugins");
        assertEquals(0, plugins.exit(), plugins.err());
        assertTrue(plugins.out().contains("graph-cleanup 1.0.0"), plugins.out());
        assertTrue(plugins.out().contains("--plugin graph-cleanup:deduplicate-min-bytes=..."), plugins.out());
        Run profiles = run("profiles");
        assertEquals(0, profiles.exit(), profiles.err());
        for (String id : new String[] {"x86-vnni", "arm64-edge", "nvidia-fp16", "mcu", "wasm"}) {
            assertTrue(profiles.out().contains(id + "  "), id + " missing from " + profiles.out());
        }
    }

    @Test
    void pluginJarsAreListedAsRefusedUntilTheAllowListNamesThemWithTheirSha256() throws Exception {
        Path folder = Files.createDirectories(temp.resolve("plugins"));
        Path jar = folder.resolve("extra.jar");
        try (java.util.jar.JarOutputStream out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new java.util.jar.JarEntry("README.txt"));
            out.write("a jar with no plugin in it".getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        String sha256 = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(Files.readAllBytes(jar)));

        Run unlisted = run("plugins", "--plugins-dir", folder.toString());
        assertEquals(0, unlisted.exit(), unlisted.err());
        assertTrue(unlisted.out().contains("refused (jar extra.jar): not in the plugin allow-list (MODELPRESS_PLUGINS_ALLOWED"
                + " or MODELPRESS_PLUGINS_ALLOWED_FILE); its sha256 is " + sha256), unlisted.out());
        assertTrue(unlisted.out().contains("graph-cleanup 1.0.0"), "built-in plugins are always there");

        Run changed = run("plugins", "--plugins-dir", folder.toString(), "--plugins-allowed", "extra.jar:" + "9".repeat(64));
        assertTrue(changed.out().contains("refused (jar extra.jar): sha256 mismatch"), changed.out());

        Path file = Files.writeString(temp.resolve("allowed.txt"), sha256 + "  extra.jar\n");
        Run listed = run("plugins", "--plugins-dir", folder.toString(), "--plugins-allowed-file", file.toString());
        assertTrue(listed.out().contains("refused (jar extra.jar): declares no plugin"), "past the allow-list: " + listed.out());

        Run bad = run("plugins", "--plugins-dir", folder.toString(), "--plugins-allowed", "extra.jar:abc");
        assertEquals(ModelpressCli.BAD_INPUT, bad.exit());
        assertTrue(bad.err().contains("plugin allow-list: the sha256 of extra.jar must be 64 hex digits, not 'abc'"),
                bad.err());
    }

    @Test
    void emptyFile() throws IOException {
        assertBadInput(inspectAndCompress(Files.createFile(temp.resolve("empty.onnx"))), "empty");
    }

    @Test
    void truncatedModel() throws IOException {
        byte[] bytes = Files.readAllBytes(RealModels.OCR_CLASSIFIER.copyTo(temp.resolve("real")));
        Path truncated = Files.write(temp.resolve("truncated.onnx"), Arrays.copyOf(bytes, bytes.length / 2));
        assertBadInput(inspectAndCompress(truncated), "truncated");
    }

    @Test
    void randomBytes() throws IOException {
        byte[] bytes = new byte[100_000];
        new Random(42).nextBytes(bytes);
        assertBadInput(inspectAndCompress(Files.write(temp.resolve("random.onnx"), bytes)), "not an ONNX model");
    }

    @Test
    void textFile() throws IOException {
        Path text = Files.writeString(temp.resolve("notes.onnx"), "this is a text file, not a model\n");
        assertBadInput(inspectAndCompress(text), "not an ONNX model");
    }

    @Test
    void externalDataThatEscapesItsFolder() throws IOException {
        Files.write(temp.resolve("secret.bin"), new byte[4 * 16]);
        OnnxModel model = TestModels.mlp(4, 4, 4, 1);
        GraphProto.Builder graph = model.proto().getGraph().toBuilder();
        TensorProto w1 = graph.getInitializer(0);
        graph.setInitializer(0, w1.toBuilder().clearRawData().setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue("../secret.bin")));
        Path file = temp.resolve("model/escaping.onnx");
        model.withProto(model.proto().toBuilder().setGraph(graph).build()).save(file, SaveOptions.inline());
        assertBadInput(inspectAndCompress(file), "'..'");
    }

    @Test
    void tensorDeclaringTwoToTheFortyElements() throws IOException {
        OnnxModel model = TestModels.mlp(4, 4, 4, 1);
        GraphProto.Builder graph = model.proto().getGraph().toBuilder();
        graph.setInitializer(0, graph.getInitializer(0).toBuilder().clearDims().addDims(1L << 20).addDims(1L << 20));
        Path file = temp.resolve("huge.onnx");
        model.withProto(model.proto().toBuilder().setGraph(graph).build()).save(file, SaveOptions.inline());
        assertBadInput(inspectAndCompress(file), "1099511627776");
    }

    @Test
    void unknownPluginAndOptionOutOfRange() throws IOException {
        Path model = temp.resolve("mlp.onnx");
        TestModels.mlp(4, 4, 4, 1).save(model, SaveOptions.inline());
        Run unknown = run("compress", model.toString(), "--profile", "x86-vnni", "--plugin", "no-such-plugin", "--out",
                temp.resolve("out").toString());
        assertBadInput(unknown, "unknown plugin 'no-such-plugin'; available plugins: ");
        assertTrue(unknown.err().contains("graph-cleanup"), unknown.err());
        Run range = run("compress", model.toString(), "--profile", "x86-vnni", "--plugin",
                "graph-cleanup:deduplicate-min-bytes=-5", "--out", temp.resolve("out").toString());
        assertBadInput(range, "out of range; expected integer 1..2147483647");
        Run profile = run("compress", model.toString(), "--profile", "x86", "--plugin", "graph-cleanup", "--out",
                temp.resolve("out").toString());
        assertBadInput(profile, "unknown profile 'x86'");
        Run usage = run("compress", model.toString(), "--plugin", "graph-cleanup");
        assertBadInput(usage, "Missing required options");
    }

    /** Both commands that read a model must refuse it the same way. */
    private Run[] inspectAndCompress(Path model) {
        return new Run[] {run("inspect", model.toString()), run("compress", model.toString(), "--profile", "x86-vnni",
                "--plugin", "graph-cleanup", "--out", temp.resolve("out-" + model.getFileName()).toString())};
    }

    private static void assertBadInput(Run[] runs, String reason) {
        for (Run run : runs) {
            assertBadInput(run, reason);
        }
    }

    private static void assertBadInput(Run run, String reason) {
        assertEquals(2, run.exit(), "exit code; stderr: " + run.err());
        String err = run.err().strip();
        assertTrue(err.startsWith("modelpress: "), err);
        assertTrue(err.contains(reason), "'" + reason + "' not in: " + err);
        assertFalse(err.contains("\n"), "one line: " + err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), "no stack trace: " + err);
        assertTrue(new String(err.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8).length() < 400, err);
    }
}

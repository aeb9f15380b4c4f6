package io.modelpress.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelpress.engine.Reports;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.SaveOptions;
import io.modelpress.testkit.TestModels;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code compress --results DIR}: results kept by request, a repeated request answered from them. */
class CompressResultsTest {

    @TempDir
    Path temp;

    @Test
    void theSameRequestAgainIsAnsweredFromTheResultsFolderAndAnotherIsComputed() throws IOException {
        Path model = temp.resolve("mlp.onnx");
        TestModels.mlp(16, 32, 8, 3).save(model, SaveOptions.inline());
        Path results = temp.resolve("results");

        Run first = run("compress", model.toString(), "--profile", "x86-vnni", "--plugin", "int8-dynamic", "--no-bench",
                "--results", results.toString(), "--out", temp.resolve("first").toString(), "--quiet");
        assertEquals(0, first.exit(), first.err());
        assertTrue(first.out().contains("kept in " + results.toAbsolutePath()), first.out());
        String digest = OnnxModel.load(model).sourceDigest().orElseThrow();
        List<Path> index = files(results.resolve("modelpress/index/x86-vnni/" + digest));
        assertEquals(1, index.size(), "one index entry for the request: " + index);

        Run second = run("compress", model.toString(), "--profile", "x86-vnni", "--plugin", "int8-dynamic", "--no-bench",
                "--results", results.toString(), "--out", temp.resolve("second").toString(), "--quiet");
        assertEquals(0, second.exit(), second.err());
        assertTrue(second.out().contains("this request was compressed before"), second.out());
        assertFalse(second.out().contains("kept in"), second.out());
        assertEquals(Files.readString(temp.resolve("first/report.json")), Files.readString(temp.resolve("second/report.json")),
                "the very report of the first run");
        assertEquals(-1, Files.mismatch(temp.resolve("first/model.onnx"), temp.resolve("second/model.onnx")));
        assertTrue(Files.exists(temp.resolve("second/report.html")));

        Run other = run("compress", model.toString(), "--profile", "x86-vnni", "--plugin", "int8-dynamic:per-channel=false",
                "--no-bench", "--results", results.toString(), "--out", temp.resolve("other").toString(), "--quiet");
        assertEquals(0, other.exit(), other.err());
        assertTrue(other.out().contains("kept in"), "other options are another request: " + other.out());
        assertEquals(2, files(results.resolve("modelpress/index/x86-vnni/" + digest)).size());
        JsonNode report = Reports.json().readTree(temp.resolve("other/report.json").toFile());
        assertEquals("false", report.path("plan").get(0).path("options").path("per-channel").asText());
    }

    private record Run(int exit, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = ModelpressCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(exit, out.toString(), err.toString());
    }

    private static List<Path> files(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.sorted().toList();
        }
    }
}

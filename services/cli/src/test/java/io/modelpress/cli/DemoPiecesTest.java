package io.modelpress.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.modelpress.engine.data.NpzData;
import io.modelpress.engine.data.NpzWriter;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.SaveOptions;
import io.modelpress.spi.CalibrationData;
import io.modelpress.testkit.TestModels;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's parts that need no servers: its data files, how it tracks answers, how it refuses bad input. */
class DemoPiecesTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path temp;

    @Test
    void npzFilesReadBackThroughTheEnginesReader() throws IOException {
        Path file = temp.resolve("data.npz");
        float[] pixels = {0f, 0.5f, 1f, 0.25f, 0.75f, 0.125f};
        try (NpzWriter out = new NpzWriter(file)) {
            out.floats("pixels", new long[] {3, 2}, pixels);
            out.longs(NpzData.LABELS, new long[] {3}, new long[] {7, 1, 9});
        }
        CalibrationData data = NpzData.read(file, Map.of(), 2, 1 << 20);
        assertEquals(2, data.size(), "3 examples in batches of 2");
        assertArrayEquals(new long[] {2, 2}, data.sample(0).get("pixels").shape());
        assertArrayEquals(new float[] {0f, 0.5f, 1f, 0.25f}, data.sample(0).get("pixels").toFloats());
        assertArrayEquals(new float[] {0.75f, 0.125f}, data.sample(1).get("pixels").toFloats());
        assertEquals(9, data.labels(1).orElseThrow().data().getLong(0));
    }

    @Test
    void theSampleHoldsLabelledHeldOutDigitsForTheModelsInput() throws IOException {
        DemoSample sample = DemoSample.write(temp.resolve("sample"));
        CalibrationData evaluation = NpzData.read(sample.evaluation(), Map.of(), 500, 1L << 30);
        String input = OnnxModel.load(sample.model()).proto().getGraph().getInput(0).getName();
        assertEquals(List.of(input), List.copyOf(evaluation.inputNames()));
        assertEquals(sample.examples(), evaluation.size() * 500);
        long[] classes = new long[10];
        for (int i = 0; i < evaluation.size(); i++) {
            var labels = evaluation.labels(i).orElseThrow().data();
            for (int j = 0; j < 500; j++) {
                classes[(int) labels.getLong(j * 8)]++;
            }
        }
        for (long count : classes) {
            assertTrue(count > 100, "every digit is there: " + java.util.Arrays.toString(classes));
        }
        assertFalse(NpzData.read(sample.calibration(), Map.of(), 64, 1L << 30).labels(0).isPresent());
    }

    @Test
    void anOutcomeIsDoneWhenEveryProfileIsAnsweredAndFailsWhenAProfileFailed() throws IOException {
        ModelOutcome outcome = new ModelOutcome("m", "1", List.of("x86-vnni", "mcu"));
        assertFalse(outcome.accept(event(EventFeed.RESULTS, "other", "{\"version\":\"1\",\"profile\":\"mcu\"}")));
        assertFalse(outcome.accept(event(EventFeed.RESULTS, "m", "{\"version\":\"2\",\"profile\":\"mcu\"}")));
        outcome.accept(event(EventFeed.PROGRESS, "m", "{\"version\":\"1\",\"stage\":\"download\",\"percent\":0}"));
        outcome.accept(event(EventFeed.RESULTS, "m", "{\"version\":\"1\",\"profile\":\"x86-vnni\",\"status\":\"complete\","
                + "\"judging\":{\"judgedOn\":\"labelled-data\"}}"));
        assertFalse(outcome.done(), "the benchmark of x86-vnni and anything for mcu are still to come");
        outcome.accept(event(EventFeed.BENCHMARKS, "m", "{\"version\":\"1\",\"profile\":\"x86-vnni\"}"));
        outcome.accept(event(EventFeed.FAILURES, "m", "{\"version\":\"1\",\"profile\":\"mcu\",\"stage\":\"compress\","
                + "\"reason\":\"over the size budget\"}"));
        assertTrue(outcome.done());
        assertFalse(outcome.succeeded());

        StringWriter table = new StringWriter();
        new EventPrinter(new PrintWriter(table, true)).summary(outcome);
        assertTrue(table.toString().lines().anyMatch(line -> line.matches("\\s+mcu\\s+failed\\s.*")), table.toString());
        assertTrue(table.toString().contains("compress: over the size budget"), table.toString());
        assertTrue(table.toString().lines().anyMatch(line -> line.matches("\\s+x86-vnni\\s+complete\\s+labelled-data\\s.*")),
                "the table says what judged each result: " + table);
        assertTrue(table.toString().contains("NOT answered: 1 complete, 1 failed"), table.toString());
    }

    @Test
    void unverifiedAndKeptOriginalResultsArePublishedAnswersAndTheSummaryCountsEach() throws IOException {
        ModelOutcome outcome = new ModelOutcome("m", "1", List.of("x86-vnni", "wasm", "mcu"));
        outcome.accept(event(EventFeed.RESULTS, "m", "{\"version\":\"1\",\"profile\":\"x86-vnni\",\"status\":\"complete\"}"));
        outcome.accept(event(EventFeed.RESULTS, "m", "{\"version\":\"1\",\"profile\":\"wasm\",\"status\":\"unverified\"}"));
        outcome.accept(event(EventFeed.RESULTS, "m", "{\"version\":\"1\",\"profile\":\"mcu\",\"status\":\"kept-original\","
                + "\"hint\":\"nothing met the budget\"}"));
        for (String profile : List.of("x86-vnni", "wasm", "mcu")) {
            assertFalse(outcome.succeeded(), "not before every benchmark is in");
            outcome.accept(event(EventFeed.BENCHMARKS, "m", "{\"version\":\"1\",\"profile\":\"" + profile + "\"}"));
        }
        assertTrue(outcome.done());
        assertTrue(outcome.succeeded(), "every profile has a published result; none failed");
        assertEquals("1 complete, 1 unverified, 1 kept-original", outcome.tally());

        StringWriter table = new StringWriter();
        new EventPrinter(new PrintWriter(table, true)).summary(outcome);
        assertTrue(table.toString().contains("kept-original (mcu): nothing met the budget"), table.toString());
        assertTrue(table.toString().contains("unverified (wasm): only generated inputs judged it"), table.toString());
        assertTrue(table.toString().contains("answered: 1 complete, 1 unverified, 1 kept-original"), table.toString());
    }

    @Test
    void aFailureOfTheWholeModelEndsTheWait() throws IOException {
        ModelOutcome outcome = new ModelOutcome("m", "1", List.of("x86-vnni"));
        outcome.accept(event(EventFeed.FAILURES, "m", "{\"version\":\"1\",\"stage\":\"verify\",\"reason\":\"sha256 mismatch\"}"));
        assertTrue(outcome.done());
        assertFalse(outcome.succeeded());
    }

    @Test
    void registerRefusesBadInputWithAReason() throws IOException {
        Path model = temp.resolve("model.onnx");
        TestModels.mlp(4, 8, 2, 1).save(model, SaveOptions.inline());
        CliRun noDemo = run("demo", "--work", temp.toString(), "register", model.toString());
        assertEquals(ModelpressCli.BAD_INPUT, noDemo.exit());
        assertTrue(noDemo.err().startsWith("modelpress: no demo is running with work folder"), noDemo.err());
        CliRun missing = run("demo", "--work", temp.toString(), "register", temp.resolve("nothing.onnx").toString());
        assertEquals(ModelpressCli.BAD_INPUT, missing.exit());
        assertTrue(missing.err().contains("MODEL " + temp.resolve("nothing.onnx") + " is not a file"), missing.err());
        CliRun badTimeout = run("demo", "--work", temp.toString(), "--timeout", "soon", "--once");
        assertEquals(ModelpressCli.BAD_INPUT, badTimeout.exit());
        assertTrue(badTimeout.err().contains("--timeout 'soon' is not a duration"), badTimeout.err());
    }

    @Test
    void externalDataFilesAreFoundForUpload() throws IOException {
        Path model = temp.resolve("model.onnx");
        TestModels.mlp(64, 64, 8, 1).save(model, SaveOptions.external("weights.bin"));
        assertEquals(List.of("weights.bin"), List.copyOf(ModelRegistrar.externalDataFiles(model)));
        Path inline = temp.resolve("inline.onnx");
        TestModels.mlp(4, 8, 2, 1).save(inline, SaveOptions.inline());
        assertTrue(ModelRegistrar.externalDataFiles(inline).isEmpty());
    }

    private record CliRun(int exit, String out, String err) {
    }

    private static CliRun run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = ModelpressCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new CliRun(exit, out.toString(), err.toString());
    }

    private static EventFeed.OutputEvent event(String topic, String key, String json) throws IOException {
        JsonNode data = JSON.readTree(json);
        return new EventFeed.OutputEvent(topic, key, "", data, System.nanoTime());
    }
}

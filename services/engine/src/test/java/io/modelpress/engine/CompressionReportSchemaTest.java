package io.modelpress.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.modelpress.engine.plan.Budget;
import io.modelpress.engine.plan.PlanRequest;
import io.modelpress.engine.plan.Planner;
import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.inference.BenchmarkSettings;
import io.modelpress.model.LoadLimits;
import io.modelpress.testkit.MnistModels;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every report the engine writes validates against schemas/compression-report.schema.json. */
class CompressionReportSchemaTest {

    @TempDir
    Path temp;

    private final CompressionEngine engine = new CompressionEngine(PluginRegistry.discover(getClass().getClassLoader()),
            LoadLimits.DEFAULT);

    @Test
    void aReportWithAccuracyAndTimingValidates() throws IOException {
        Path model = MnistModels.copy(temp.resolve("in"));
        CompressionReport report = engine.compress(new CompressionRequest(model, TestProfiles.cpu(),
                List.of(ChainStep.parse("graph-cleanup")), temp.resolve("out"),
                Optional.of(MnistModels.calibration("pixels", 8000, 8200, 100)),
                Optional.of(MnistModels.calibration("pixels", 8000, 10000, 500)),
                Optional.of(BenchmarkSettings.of(1, 2, 5))), ProgressListener.NONE);

        assertEquals(0.964, report.accuracy().orElseThrow().top1Before(), 1e-9, "the shipped classifier's held-out accuracy");
        assertEquals(0.0, report.accuracy().orElseThrow().top1Drop(), "a lossless chain loses nothing");
        assertTrue(report.benchmark().orElseThrow().compressed().isPresent());
        assertEquals("cpu", report.benchmark().orElseThrow().executionProvider());
        assertEquals(Optional.empty(), report.benchmark().orElseThrow().note(), "timed where the profile runs");
        assertValid(temp.resolve("out/report.json"));

        com.fasterxml.jackson.databind.node.ObjectNode tampered =
                (com.fasterxml.jackson.databind.node.ObjectNode) Reports.json().readTree(temp.resolve("out/report.json").toFile());
        tampered.put("status", "maybe");
        assertTrue(schema().validate(tampered).stream().anyMatch(problem -> problem.getMessage().contains("status")),
                "the schema catches a wrong status");
    }

    @Test
    void timingsOfAProfileForAnotherProviderSayWhereTheyWereTaken() throws IOException {
        Path model = MnistModels.copy(temp.resolve("in"));
        CompressionReport report = engine.compress(new CompressionRequest(model, TestProfiles.fp16Only(),
                List.of(ChainStep.parse("graph-cleanup")), temp.resolve("gpu"), Optional.empty(), Optional.empty(),
                Optional.of(BenchmarkSettings.of(1, 2, 5))), ProgressListener.NONE);

        CompressionReport.BenchmarkReport timing = report.benchmark().orElseThrow();
        assertTrue(timing.compressed().isPresent());
        assertEquals("cpu", timing.executionProvider());
        assertTrue(timing.note().orElseThrow().contains("'cuda'"), timing.note()::toString);
        assertValid(temp.resolve("gpu/report.json"));
    }

    @Test
    void aPlannedReportValidates() throws IOException {
        Path model = MnistModels.copy(temp.resolve("in"));
        CompressionReport report = new Planner(engine).compress(new PlanRequest(model, TestProfiles.cpu(),
                Budget.of(TestProfiles.cpu()), temp.resolve("planned"), Optional.empty(), Optional.empty()),
                ProgressListener.NONE);
        assertTrue(report.planning().isPresent());
        assertValid(temp.resolve("planned/report.json"));
    }

    private static void assertValid(Path reportFile) throws IOException {
        JsonNode report = Reports.json().readTree(reportFile.toFile());
        Set<ValidationMessage> problems = schema().validate(report);
        assertTrue(problems.isEmpty(), problems.toString());
    }

    private static JsonSchema schema() throws IOException {
        try (InputStream in = CompressionReportSchemaTest.class.getResourceAsStream(
                "/io/modelpress/schemas/compression-report.schema.json")) {
            return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in);
        }
    }
}

package io.modelpress.compressor;

import static io.modelpress.compressor.EventLog.FAILURES;
import static io.modelpress.compressor.EventLog.RESULTS;
import static io.modelpress.compressor.EventLog.on;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.minio.MinioClient;
import io.modelpress.cli.ModelpressCli;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.SaveOptions;
import io.modelpress.testkit.TestModels;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One request, two adapters: a model registered through Kafka and the same model, profile and data
 * given to {@code modelpress compress} run the same engine job and give the same report.json. Only
 * what the run cannot repeat differs: how long things took.
 */
@QuarkusTest
@WithTestResource(LocalStackResource.class)
class SameReportTest {

    private static final Duration WAIT = Duration.ofSeconds(180);
    /** Wall-clock figures anywhere in the report: measured again on every run, whichever adapter runs it. */
    private static final Set<String> TIMINGS = Set.of("millis", "totalMillis", "planningMillis", "latencyMillis");
    /** The benchmark's measured runs (latencies, load time, session memory); its settings and inputs stay. */
    private static final Set<String> MEASURED_RUNS = Set.of("original", "compressed", "speedup");

    @TempDir
    Path temp;

    @Test
    void aNamedChainGivesTheSameReportFromTheServiceAndTheCommandLine() throws Exception {
        assertSameReport("same/named", "registry/same-named/1", List.of("graph-cleanup", "int8-dynamic"));
    }

    @Test
    void thePlannersChoiceGivesTheSameReportFromTheServiceAndTheCommandLine() throws Exception {
        assertSameReport("same/planned", "registry/same-planned/1", List.of());
    }

    private void assertSameReport(String id, String folder, List<String> chain) throws Exception {
        MinioClient s3 = Fixtures.s3();
        Path local = Files.createDirectories(temp.resolve("model"));
        String dataName = "weights-" + folder.hashCode();
        TestModels.mlp(8, 16, 3, 11).save(local.resolve("model.onnx"), SaveOptions.external(dataName));
        Fixtures.put(s3, folder + "/model.onnx", Files.readAllBytes(local.resolve("model.onnx")));
        Fixtures.put(s3, folder + "/" + dataName, Files.readAllBytes(local.resolve(dataName)));
        Path calibration = temp.resolve("calibration.npz");
        Files.write(calibration, Fixtures.npz("x", 8, rows(64 * 8), null));
        String calibrationUri = Fixtures.storeFile(s3, calibration, folder + "/data/calibration.npz");
        String uri = "s3://" + LocalStackResource.BUCKET + "/" + folder + "/model.onnx";

        ObjectNode registered = Fixtures.registered(id, uri, "x86-vnni");
        if (!chain.isEmpty()) {
            Fixtures.withChain(registered, chain.toArray(String[]::new));
        }
        registered.put("calibrationDataUri", calibrationUri);
        JsonNode result;
        try (EventLog log = new EventLog(Fixtures.bootstrapServers())) {
            log.sendBinary(id, "registered-" + id, registered.toString());
            result = log.await(on(RESULTS, id).or(on(FAILURES, id)), 1, WAIT).get(0).data();
        }
        assertTrue(result.has("artifact"), () -> "the service failed: " + result);
        JsonNode service = EventJson.mapper().readTree(Fixtures.get(s3, result.path("artifact").path("reportUri").asText()));

        Path out = temp.resolve("out");
        List<String> args = new ArrayList<>(List.of("compress", local.resolve("model.onnx").toString(), "--profile",
                "x86-vnni", "--out", out.toString(), "--calibration", calibration.toString(), "--data-batch", "1",
                "--time-limit", "60s", "--quiet"));
        chain.forEach(step -> args.addAll(List.of("--plugin", step)));
        StringWriter printed = new StringWriter();
        int code = ModelpressCli.run(args.toArray(String[]::new), new PrintWriter(printed, true),
                new PrintWriter(printed, true));
        assertEquals(ModelpressCli.OK, code, printed::toString);
        JsonNode cli = EventJson.mapper().readTree(out.resolve("report.json").toFile());

        assertTrue(service.path("fidelity").path("outputs").size() > 0, service::toString);
        assertEquals(withoutTimings(service).toPrettyString(), withoutTimings(cli).toPrettyString(),
                "the service's and the command line's report.json, timings aside");
    }

    /** The report without wall-clock figures; every other field, the measured fidelity included, stays. */
    private static JsonNode withoutTimings(JsonNode report) {
        JsonNode copy = report.deepCopy();
        strip(copy);
        return copy;
    }

    private static void strip(JsonNode node) {
        if (node instanceof ObjectNode object) {
            object.remove(TIMINGS);
            if (object.get("benchmark") instanceof ObjectNode benchmark) {
                benchmark.remove(MEASURED_RUNS);
            }
            object.forEach(SameReportTest::strip);
        } else if (node instanceof ArrayNode array) {
            array.forEach(SameReportTest::strip);
        }
    }

    private static float[] rows(int values) {
        Random random = new Random(5);
        float[] rows = new float[values];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = (float) random.nextGaussian();
        }
        return rows;
    }
}

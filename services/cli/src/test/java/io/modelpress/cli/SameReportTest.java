package io.modelpress.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.minio.GetObjectArgs;
import io.minio.MinioClient;
import io.modelpress.localstack.LocalStack;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * One request, two adapters: the same model, profile and data registered with the packaged service
 * (real Kafka broker and S3 server) and given to {@code modelpress compress} run the same engine job
 * and give the same report.json: the same plan, files, digests, fidelity, accuracy, planning and
 * benchmark settings. Only what no run can repeat differs: how long things took, how much session
 * memory a timed run took, and the planner's Pareto front, which rests on measured latencies.
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES) // a guard against hangs, not a performance check
class SameReportTest {

    private static final String PROFILE = "x86-vnni";
    private static final Duration WAIT = Duration.ofMinutes(10);
    /**
     * Figures of one run anywhere in the report, measured anew on every run whichever adapter runs it:
     * wall-clock times, and the session memory a timed candidate took (ONNX Runtime's allocator).
     */
    private static final Set<String> TIMINGS = Set.of("millis", "totalMillis", "planningMillis", "latencyMillis",
            "memoryBytes");
    /** The budget checks whose measured value is such a figure. */
    private static final Set<String> MEASURED_CHECKS = Set.of("latency", "memory");
    /** The chosen candidate's latency as the planner's explanation quotes it. */
    private static final Pattern QUOTED_LATENCY = Pattern.compile("p50 [0-9.]+ ms");
    /** The benchmark's measured runs (latencies, load time, session memory); its settings and inputs stay. */
    private static final Set<String> MEASURED_RUNS = Set.of("original", "compressed", "speedup");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path temp;

    @Test
    void theServiceAndTheCommandLineGiveTheSameReportForTheSameRequest() throws Exception {
        Path serviceJar = Path.of(System.getProperty("modelpress.service.jar", "../compressor/target/quarkus-app/quarkus-run.jar"));
        assertTrue(Files.isRegularFile(serviceJar), "the test runs the packaged service; build services/compressor first: "
                + serviceJar.toAbsolutePath());
        DemoSample sample = DemoSample.write(temp.resolve("sample"));
        Map<String, List<String>> requests = new LinkedHashMap<>();
        requests.put("same/named", List.of("graph-cleanup", "int8-dynamic"));
        requests.put("same/planned", List.of());
        Map<String, JsonNode> fromService = new HashMap<>();
        try (LocalStack stack = LocalStack.builder().workFolder(temp.resolve("stack")).start()) {
            DemoEndpoints endpoints = new DemoEndpoints(stack.bootstrapServers(), stack.s3Endpoint(), stack.accessKey(),
                    stack.secretKey(), DemoCommand.BUCKET, stack.s3Endpoint());
            Map<String, String> environment = new HashMap<>(stack.environment());
            environment.put("MODELPRESS_INPUTS_ALLOWED", DemoCommand.BUCKET);
            environment.put("MODELPRESS_SHUTDOWN_GRACE", "10s");
            try (ModelRegistrar registrar = new ModelRegistrar(endpoints);
                    EventFeed feed = new EventFeed(endpoints.bootstrapServers());
                    DemoService service = DemoService.start(serviceJar, environment, "2g", temp.resolve("service"),
                            Duration.ofMinutes(5))) {
                registrar.ensureBucket();
                String calibration = registrar.upload(sample.calibration(), "data/calibration.npz");
                String evaluation = registrar.upload(sample.evaluation(), "data/evaluation.npz");
                Map<String, ModelOutcome> outcomes = new LinkedHashMap<>();
                requests.forEach((modelId, chain) -> {
                    ObjectNode event = registrar.event(modelId, "1", registrar.uploadModel(sample.model(), modelId + "/1/"),
                            sample.model(), List.of(PROFILE));
                    if (!chain.isEmpty()) {
                        chain.forEach(event.putArray("chain")::add);
                    }
                    event.put("calibrationDataUri", calibration).put("evaluationDataUri", evaluation);
                    registrar.register(event);
                    outcomes.put(modelId, new ModelOutcome(modelId, "1", List.of(PROFILE)));
                });
                await(feed, outcomes, service);
                MinioClient s3 = MinioClient.builder().endpoint(stack.s3Endpoint().toString())
                        .credentials(stack.accessKey(), stack.secretKey()).build();
                for (ModelOutcome outcome : outcomes.values()) {
                    ModelOutcome.ProfileOutcome answer = outcome.profiles().get(0);
                    JsonNode result = answer.result().orElseThrow(() -> new AssertionError(outcome.modelId()
                            + " failed in the service: " + answer.failure().map(JsonNode::toString)
                            .orElse(outcome.modelFailures().toString())));
                    fromService.put(outcome.modelId(), JSON.readTree(read(s3, result.path("artifact").path("reportUri")
                            .asText())));
                }
            }
        }
        for (Map.Entry<String, List<String>> request : requests.entrySet()) {
            Path out = temp.resolve("cli-" + request.getKey().replace('/', '-'));
            List<String> args = new ArrayList<>(List.of("compress", sample.model().toString(), "--profile", PROFILE,
                    "--out", out.toString(), "--calibration", sample.calibration().toString(), "--evaluation",
                    sample.evaluation().toString(), "--quiet"));
            request.getValue().forEach(step -> args.addAll(List.of("--plugin", step)));
            StringWriter printed = new StringWriter();
            int exit = ModelpressCli.run(args.toArray(String[]::new), new PrintWriter(printed, true),
                    new PrintWriter(printed, true));
            assertEquals(ModelpressCli.OK, exit, printed::toString);
            JsonNode service = fromService.get(request.getKey());
            JsonNode cli = JSON.readTree(out.resolve("report.json").toFile());
            assertEquals(request.getValue().isEmpty(), service.path("planning").isObject(), "the planner chose: "
                    + request.getKey());
            assertTrue(service.path("benchmark").path("compressed").path("p50Millis").asDouble() > 0,
                    "both time the result: " + service.path("benchmark"));
            assertTrue(cli.path("benchmark").path("compressed").path("p50Millis").asDouble() > 0,
                    "both time the result: " + cli.path("benchmark"));
            assertEquals(withoutTimings(service).toPrettyString(), withoutTimings(cli).toPrettyString(),
                    "report.json of " + request.getKey() + " from the service and from the command line, timings aside");
        }
    }

    private static void await(EventFeed feed, Map<String, ModelOutcome> outcomes, DemoService service) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!outcomes.values().stream().allMatch(ModelOutcome::done)) {
            assertTrue(System.nanoTime() < deadline, () -> "no answer within " + WAIT + "; the service's log: "
                    + service.log());
            for (EventFeed.OutputEvent event : feed.poll(Duration.ofMillis(200))) {
                ModelOutcome outcome = outcomes.get(event.key());
                if (outcome != null) {
                    outcome.accept(event);
                }
            }
        }
    }

    private static byte[] read(MinioClient s3, String uri) throws Exception {
        String path = uri.substring("s3://".length());
        int slash = path.indexOf('/');
        try (InputStream in = s3.getObject(GetObjectArgs.builder().bucket(path.substring(0, slash))
                .object(path.substring(slash + 1)).build())) {
            return in.readAllBytes();
        }
    }

    /** The report without wall-clock figures; every other field, the measured fidelity and accuracy included, stays. */
    private static JsonNode withoutTimings(JsonNode report) {
        JsonNode copy = report.deepCopy();
        strip(copy);
        return copy;
    }

    private static void strip(JsonNode node) {
        if (node instanceof ObjectNode object) {
            object.remove(TIMINGS);
            if (object.get("trials") != null) {
                // The candidates no other beats on size, drop and latency: which they are rests on
                // measured latencies, so it moves between any two runs. Every trial stays compared.
                object.remove("pareto");
            }
            if (MEASURED_CHECKS.contains(object.path("budget").asText())) {
                object.remove("actual");
            }
            if (object.get("explanation") != null && object.get("explanation").isTextual()) {
                object.put("explanation", QUOTED_LATENCY.matcher(object.get("explanation").asText())
                        .replaceAll("p50 (measured) ms"));
            }
            if (object.get("benchmark") instanceof ObjectNode benchmark) {
                benchmark.remove(MEASURED_RUNS);
            }
            object.forEach(SameReportTest::strip);
        } else if (node instanceof ArrayNode array) {
            array.forEach(SameReportTest::strip);
        }
    }
}

package io.modelpress.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelpress.engine.EngineException;
import io.modelpress.localstack.LocalStack;
import io.modelpress.localstack.LocalStackException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The whole flow on one machine: a real Kafka broker and S3 server, the compressor service, and a
 * sample model registered the way a model registry would, with its events printed as they arrive.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = ModelpressCli.Version.class,
        subcommands = DemoRegisterCommand.class,
        description = {"Starts Kafka (KRaft) and an S3 server on loopback ports, the compressor service, registers a"
                + " sample model (an MNIST classifier with labelled digits) and prints the events that come back.",
                "Stays up to take more models (see 'demo register') until Ctrl-C; with --once, exits after the results."})
final class DemoCommand implements Callable<Integer> {

    static final String BUCKET = "models";
    static final List<String> DEFAULT_PROFILES = List.of("x86-vnni", "nvidia-fp16");
    private static final Duration START_TIMEOUT = Duration.ofMinutes(3);

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--work", paramLabel = "DIR", defaultValue = "target/demo",
            description = "where the servers keep data and logs (emptied at start; default: ${DEFAULT-VALUE})")
    Path work;

    @Option(names = "--service-jar", paramLabel = "FILE",
            defaultValue = "services/compressor/target/quarkus-app/quarkus-run.jar",
            description = "the compressor service's runnable jar (default: ${DEFAULT-VALUE})")
    Path serviceJar;

    @Option(names = "--dashboard-jar", paramLabel = "FILE",
            defaultValue = "services/dashboard/target/quarkus-app/quarkus-run.jar",
            description = "the dashboard's runnable jar; the demo goes on without a dashboard when it is not built"
                    + " (default: ${DEFAULT-VALUE})")
    Path dashboardJar;

    @Option(names = "--once", description = "exit after the sample's results: 0 when the service published a result "
            + "for every profile (complete, unverified or kept-original; the summary counts each), 1 when a profile "
            + "failed or went unanswered")
    boolean once;

    @Option(names = "--profile", paramLabel = "ID", description = "a profile to compress the sample for; repeat for more"
            + " (default: x86-vnni and nvidia-fp16)")
    List<String> profiles = List.of();

    @Option(names = "--chain", paramLabel = "ID[:key=value,...]",
            description = "a step of an explicit chain for the sample, in order; without it the service chooses")
    List<String> chain = List.of();

    @Option(names = "--time-limit", paramLabel = "DURATION", defaultValue = "3m",
            description = "how long the service's planner may search per profile (default: ${DEFAULT-VALUE})")
    String timeLimit;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "20m",
            description = "with --once: how long to wait for the results (default: ${DEFAULT-VALUE})")
    String timeout;

    @Option(names = "--in-flight", paramLabel = "N", defaultValue = "1",
            description = "models the service compresses at the same time (default: ${DEFAULT-VALUE})")
    int inFlight;

    @Option(names = "--service-heap", paramLabel = "SIZE", defaultValue = "2g",
            description = "the service's JVM heap (default: ${DEFAULT-VALUE})")
    String serviceHeap;

    @Option(names = "--bridge-jar", paramLabel = "FILE",
            defaultValue = "services/registry-bridge/target/quarkus-app/quarkus-run.jar",
            description = "the registry bridge's runnable jar, started beside the service when built"
                    + " (default: ${DEFAULT-VALUE})")
    Path bridgeJar;

    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private volatile boolean stopping;
    private DemoService service;
    private DemoService bridge;
    private DemoService dashboard;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Duration wait = Durations.parse("--timeout", timeout);
        Durations.parse("--time-limit", timeLimit); // refused here rather than by the service after it started
        if (inFlight < 1) {
            throw new EngineException("--in-flight must be at least 1, not " + inFlight);
        }
        Thread hook = new Thread(this::stopAll, "modelpress-demo-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            DemoEndpoints endpoints = start(out);
            try (ModelRegistrar registrar = new ModelRegistrar(endpoints); EventFeed feed = new EventFeed(endpoints.bootstrapServers())) {
                ModelOutcome outcome = registerSample(out, registrar, work.resolve("sample"));
                boolean answered = follow(feed, new EventPrinter(out, s3Files(work)), outcome, wait, () -> stopping || !service.isAlive());
                if (!stopping && !service.isAlive()) {
                    spec.commandLine().getErr().println("modelpress: the compressor service exited; its log: " + service.log());
                    return ModelpressCli.FAILED;
                }
                if (once) {
                    if (!answered) {
                        out.printf("not every profile was answered within %s; the service's log: %s%n", timeout, work.resolve("service/service.log"));
                    }
                    return answered && outcome.succeeded() ? ModelpressCli.OK : ModelpressCli.FAILED;
                }
                printHowToGoOn(out, endpoints);
                stayUp(feed, new EventPrinter(out, s3Files(work)));
                if (!stopping) {
                    spec.commandLine().getErr().println("modelpress: the compressor service exited; its log: " + service.log());
                    return ModelpressCli.FAILED;
                }
                return ModelpressCli.OK;
            }
        } catch (LocalStackException e) {
            // the whole message: it ends with the failing server's log tail
            spec.commandLine().getErr().println("modelpress: the demo could not start: " + e.getMessage());
            return ModelpressCli.FAILED;
        } finally {
            stopAll();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // already shutting down: the hook runs or ran
            }
        }
    }

    /** The demo's S3 server keeps each object as a file under its work folder's stack/s3/data/BUCKET/KEY. */
    static Optional<Path> s3Files(Path work) {
        return Optional.of(work.resolve("stack").resolve("s3").resolve("data").toAbsolutePath().normalize());
    }

    /** Starts the stack and the service; each is stopped by {@link #stopAll()}, in reverse. */
    private DemoEndpoints start(PrintWriter out) throws IOException {
        Path stackFolder = work.resolve("stack");
        Path serviceFolder = work.resolve("service");
        Path dashboardFolder = work.resolve("dashboard");
        deleteTree(stackFolder);
        deleteTree(serviceFolder);
        deleteTree(dashboardFolder);
        Files.createDirectories(work);
        DemoEndpoints.delete(work);
        out.println("== starting a Kafka broker (KRaft) and an S3 server (S3Proxy) on loopback ports");
        out.flush();
        LocalStack stack = LocalStack.builder().workFolder(stackFolder).shutdownHook(false).start();
        register(stack);
        out.printf("   Kafka %s, S3 %s%n", stack.bootstrapServers(), stack.s3Endpoint());
        DemoEndpoints partial = new DemoEndpoints(stack.bootstrapServers(), stack.s3Endpoint(), stack.accessKey(),
                stack.secretKey(), BUCKET, stack.s3Endpoint());
        try (ModelRegistrar registrar = new ModelRegistrar(partial)) {
            registrar.ensureBucket();
        }
        out.printf("== starting the compressor service (%s)%n", serviceJar);
        out.flush();
        Map<String, String> environment = new HashMap<>(stack.environment());
        environment.put("MODELPRESS_MAX_IN_FLIGHT", String.valueOf(inFlight));
        environment.put("MODELPRESS_PLANNER_TIME_LIMIT", timeLimit);
        environment.put("MODELPRESS_SHUTDOWN_GRACE", "10s");
        // The service reads only what it is told it may: the demo's bucket.
        environment.put("MODELPRESS_INPUTS_ALLOWED", BUCKET);
        service = DemoService.start(serviceJar, environment, serviceHeap, serviceFolder, START_TIMEOUT);
        register(service);
        out.printf("   ready at %s (log %s)%n", service.url(), service.log());
        startBridge(out, stack);
        startDashboard(out, stack.environment(), dashboardFolder);
        DemoEndpoints endpoints = new DemoEndpoints(stack.bootstrapServers(), stack.s3Endpoint(), stack.accessKey(),
                stack.secretKey(), BUCKET, service.url());
        endpoints.save(work);
        register(() -> DemoEndpoints.delete(work));
        return endpoints;
    }

    /** The registry bridge beside the service, when it is built: uploads and MLflow webhooks in. */
    private void startBridge(PrintWriter out, LocalStack stack) throws IOException {
        if (!Files.isRegularFile(bridgeJar)) {
            out.printf("   (the registry bridge is not built, %s is missing: bin/modelpress register needs it)%n", bridgeJar);
            return;
        }
        out.printf("== starting the registry bridge (%s)%n", bridgeJar);
        out.flush();
        Path folder = work.resolve("bridge");
        deleteTree(folder);
        Map<String, String> environment = new HashMap<>();
        environment.put("KAFKA_BOOTSTRAP_SERVERS", stack.bootstrapServers());
        environment.put("MODELPRESS_BRIDGE_S3_ENDPOINT", stack.s3Endpoint().toString());
        environment.put("MODELPRESS_BRIDGE_S3_ACCESS_KEY", stack.accessKey());
        environment.put("MODELPRESS_BRIDGE_S3_SECRET_KEY", stack.secretKey());
        environment.put("MODELPRESS_BRIDGE_BUCKET", BUCKET);
        environment.put("MODELPRESS_BRIDGE_DATA_DIR", folder.resolve("data").toString());
        environment.put("MODELPRESS_BRIDGE_DEFAULT_PROFILES", String.join(",", DEFAULT_PROFILES));
        bridge = DemoService.start("registry bridge", "/q/health/ready", bridgeJar, environment, "512m", folder, START_TIMEOUT);
        register(bridge);
        out.printf("   ready at %s (log %s)%n", bridge.url(), bridge.log());
    }

    /** The live page of every model's events; the demo goes on without it when it is not built. */
    private void startDashboard(PrintWriter out, Map<String, String> environment, Path folder) throws IOException {
        if (!Files.isRegularFile(dashboardJar)) {
            out.printf("== no dashboard: %s is not built (./mvnw -DskipTests package -pl services/dashboard -am)%n",
                    dashboardJar);
            out.flush();
            return;
        }
        out.printf("== starting the dashboard (%s)%n", dashboardJar);
        out.flush();
        dashboard = DemoService.start("dashboard", "/q/health/live", dashboardJar, environment, "256m", folder,
                START_TIMEOUT);
        register(dashboard);
        out.printf("   open %s/ to watch the models live (log %s)%n", dashboard.url(), dashboard.log());
        out.flush();
    }

    private ModelOutcome registerSample(PrintWriter out, ModelRegistrar registrar, Path folder) throws IOException {
        DemoSample sample = DemoSample.write(folder);
        String modelId = "demo/" + sample.model().getFileName().toString().replaceFirst("\\.onnx$", "");
        String version = "1";
        String prefix = modelId + "/" + version + "/";
        List<String> targets = profiles.isEmpty() ? DEFAULT_PROFILES : profiles;
        String model = registrar.uploadModel(sample.model(), prefix + "model/");
        ObjectNode event = registrar.event(modelId, version, model, sample.model(), targets);
        event.put("calibrationDataUri", registrar.upload(sample.calibration(), prefix + "data/calibration.npz"));
        event.put("evaluationDataUri", registrar.upload(sample.evaluation(), prefix + "data/evaluation.npz"));
        if (!chain.isEmpty()) {
            chain.forEach(event.putArray("chain")::add);
        }
        out.printf("== registering %s version %s for %s: an MNIST classifier (MIT-licensed digits), evaluated on %d"
                + " held-out labelled digits%n", modelId, version, String.join(", ", targets), sample.examples());
        String id = registrar.register(event);
        out.printf("   published model-registered event %s: %s%n", id, event);
        out.flush();
        return new ModelOutcome(modelId, version, targets);
    }

    /**
     * Prints every event until the outcome is done, then its table.
     *
     * @return whether every profile was answered within {@code timeout}
     */
    static boolean follow(EventFeed feed, EventPrinter printer, ModelOutcome outcome, Duration timeout,
            BooleanSupplier stop) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!outcome.done() && System.nanoTime() < deadline && !stop.getAsBoolean()) {
            for (EventFeed.OutputEvent event : feed.poll(Duration.ofMillis(500))) {
                // The feed reads the topics from their beginning: show this model's events only.
                if (outcome.accept(event)) {
                    printer.print(event);
                }
            }
        }
        printer.summary(outcome);
        return outcome.done();
    }

    private void printHowToGoOn(PrintWriter out, DemoEndpoints endpoints) {
        out.println();
        out.println("== the stack stays up. Register another model (it is uploaded to S3, then announced on Kafka):");
        out.printf("   bin/modelpress demo register MODEL.onnx [--profile ID]... [--evaluation FILE.npz] [--calibration FILE.npz]%n");
        out.printf("   Kafka    %s  in: %s  out: %s, %s, %s, %s%n", endpoints.bootstrapServers(), ModelRegistrar.TOPIC,
                EventFeed.RESULTS, EventFeed.BENCHMARKS, EventFeed.PROGRESS, EventFeed.FAILURES);
        out.printf("   S3       %s  bucket %s, access key %s, secret key %s%n", endpoints.s3Endpoint(), endpoints.bucket(),
                endpoints.accessKey(), endpoints.secretKey());
        out.printf("   service  %s/q/health  %s/q/metrics%n", endpoints.service(), endpoints.service());
        if (bridge != null) {
            out.printf("   bridge   %s  upload: bin/modelpress register MODEL.onnx --bridge %s; API: %s/openapi%n",
                    bridge.url(), bridge.url(), bridge.url());
        }
        if (dashboard != null) {
            out.printf("   dashboard %s/%n", dashboard.url());
        }
        out.printf("   logs     %s%n", work.toAbsolutePath());
        out.println("   Ctrl-C stops everything. Events of every model follow:");
        out.flush();
    }

    /** Prints events until Ctrl-C, or until the service is gone. */
    private void stayUp(EventFeed feed, EventPrinter printer) {
        while (!stopping && service.isAlive()) {
            for (EventFeed.OutputEvent event : feed.poll(Duration.ofMillis(500))) {
                printer.print(event);
            }
        }
    }

    private void register(AutoCloseable part) {
        synchronized (started) {
            started.push(part);
        }
    }

    /** Stops what was started, the last first: the service before the servers it talks to. Idempotent. */
    private void stopAll() {
        stopping = true;
        synchronized (started) {
            while (!started.isEmpty()) {
                try {
                    started.pop().close();
                } catch (Exception e) {
                    System.err.println("modelpress: while stopping: " + e.getMessage());
                }
            }
        }
    }

    static void deleteTree(Path folder) throws IOException {
        if (!Files.exists(folder)) {
            return;
        }
        try (Stream<Path> files = Files.walk(folder)) {
            for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}

package io.modelpress.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelpress.localstack.LocalStack;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The compressor service end to end, on a real broker and S3 server: event-to-result latency for a
 * small model and for a large transformer, and small-model events per minute with one and with two
 * models in flight. Not a test: run by {@code bench/service.sh}, which prints markdown.
 *
 * <p>Usage: {@code ServiceBenchmark SERVICE_JAR LARGE_MODEL.onnx [runs] [burst]}.
 */
public final class ServiceBenchmark {

    private static final List<String> CHAIN = List.of("graph-cleanup", "int8-dynamic");
    private static final String PROFILE = "x86-vnni";
    private static final Duration WAIT = Duration.ofMinutes(20);

    private final Path serviceJar;
    private final Path work;
    private final LocalStack stack;
    private final DemoEndpoints endpoints;
    private int registered;

    private ServiceBenchmark(Path serviceJar, Path work, LocalStack stack) {
        this.serviceJar = serviceJar;
        this.work = work;
        this.stack = stack;
        this.endpoints = new DemoEndpoints(stack.bootstrapServers(), stack.s3Endpoint(), stack.accessKey(),
                stack.secretKey(), DemoCommand.BUCKET, stack.s3Endpoint());
    }

    /** One event's answer: when it was published and when its result arrived. */
    record Timing(String modelId, double resultSeconds, boolean complete, boolean replayed, String ratio) {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: ServiceBenchmark SERVICE_JAR LARGE_MODEL.onnx [runs] [burst]");
            System.exit(2);
        }
        Path jar = Path.of(args[0]);
        Path large = Path.of(args[1]);
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        int burst = args.length > 3 ? Integer.parseInt(args[3]) : 12;
        Path work = Files.createTempDirectory("modelpress-service-bench-");
        DemoSample sample = DemoSample.write(work.resolve("sample"));
        try (LocalStack stack = LocalStack.builder().workFolder(work.resolve("stack")).start()) {
            new ServiceBenchmark(jar, work, stack).run(sample.model(), large, runs, burst);
        } finally {
            DemoCommand.deleteTree(work); // every run stores a few hundred MB of models
        }
    }

    private void run(Path small, Path large, int runs, int burst) throws Exception {
        String loadBefore = loadAverage();
        try (ModelRegistrar registrar = new ModelRegistrar(endpoints); EventFeed feed = new EventFeed(endpoints.bootstrapServers())) {
            registrar.ensureBucket();
            List<Timing> smallRuns = new ArrayList<>();
            List<Timing> replays = new ArrayList<>();
            List<Timing> largeRuns = new ArrayList<>();
            double perMinuteOne;
            double perMinuteTwo;
            try (DemoService service = startService(1)) {
                log("warm-up (first model of a fresh service: class loading, ONNX Runtime start)");
                Timing warm = latency(registrar, feed, small, "bench/warmup", "1");
                log("  warm-up " + warm);
                for (int i = 0; i < runs; i++) {
                    smallRuns.add(latency(registrar, feed, small, "bench/small-" + i, "1"));
                    log("  small " + smallRuns.get(i));
                }
                for (int i = 0; i < Math.min(3, runs); i++) {
                    replays.add(latency(registrar, feed, small, "bench/small-" + i, "1"));
                    log("  replay " + replays.get(i));
                }
                for (int i = 0; i < Math.max(1, (runs + 1) / 2); i++) {
                    largeRuns.add(latency(registrar, feed, large, "bench/large-" + i, "1"));
                    log("  large " + largeRuns.get(i));
                }
                perMinuteOne = throughput(registrar, feed, small, "bench/burst1-", burst);
                log("  1 in flight: " + perMinuteOne + " events/min");
            }
            try (DemoService service = startService(2)) {
                latency(registrar, feed, small, "bench/warmup2", "1");
                perMinuteTwo = throughput(registrar, feed, small, "bench/burst2-", burst);
                log("  2 in flight: " + perMinuteTwo + " events/min");
            }
            report(small, large, smallRuns, replays, largeRuns, burst, perMinuteOne, perMinuteTwo);
            System.out.printf("%nLoad average (1, 5, 15 min) before: %s; after: %s.%n", loadBefore, loadAverage());
        }
    }

    private DemoService startService(int inFlight) throws IOException {
        Map<String, String> environment = new HashMap<>(stack.environment());
        environment.put("MODELPRESS_MAX_IN_FLIGHT", String.valueOf(inFlight));
        environment.put("MODELPRESS_SHUTDOWN_GRACE", "10s");
        // The service reads models only from buckets it is told to trust: the one the models are uploaded to.
        environment.put("MODELPRESS_INPUTS_ALLOWED", DemoCommand.BUCKET);
        log("starting the service with " + inFlight + " model(s) in flight");
        return DemoService.start(serviceJar, environment, "4g", work.resolve("service-" + inFlight),
                Duration.ofMinutes(3));
    }

    /** Registers one model version and waits for its result; the clock runs from publishing to the result event. */
    private Timing latency(ModelRegistrar registrar, EventFeed feed, Path model, String modelId, String version) {
        String artifact = registrar.uploadModel(model, modelId + "/" + version + "/");
        ObjectNode event = registrar.event(modelId, version, artifact, model, List.of(PROFILE));
        CHAIN.forEach(event.putArray("chain")::add);
        long published = System.nanoTime();
        registrar.register(event);
        registered++;
        ModelOutcome outcome = new ModelOutcome(modelId, version, List.of(PROFILE));
        long result = await(feed, Map.of(modelId, outcome)).get(modelId);
        return timing(modelId, outcome, (result - published) / 1e9);
    }

    /** Publishes {@code count} models at once; events per minute from the first publish to the last result. */
    private double throughput(ModelRegistrar registrar, EventFeed feed, Path model, String prefix, int count) {
        Map<String, ModelOutcome> outcomes = new LinkedHashMap<>();
        List<ObjectNode> events = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String modelId = prefix + i;
            ObjectNode event = registrar.event(modelId, "1", registrar.uploadModel(model, modelId + "/1/"), model,
                    List.of(PROFILE));
            CHAIN.forEach(event.putArray("chain")::add);
            events.add(event);
            outcomes.put(modelId, new ModelOutcome(modelId, "1", List.of(PROFILE)));
        }
        long first = System.nanoTime();
        events.forEach(registrar::register);
        registered += count;
        Map<String, Long> results = await(feed, outcomes);
        long last = results.values().stream().mapToLong(Long::longValue).max().orElseThrow();
        long failed = outcomes.values().stream().filter(outcome -> !outcome.succeeded()).count();
        if (failed > 0) {
            String reason = outcomes.values().stream().filter(outcome -> !outcome.succeeded())
                    .flatMap(outcome -> java.util.stream.Stream.concat(outcome.modelFailures().stream(),
                            outcome.profiles().stream().flatMap(profile -> profile.failure().stream())))
                    .map(failure -> failure.path("stage").asText() + ": " + failure.path("reason").asText()).findFirst().orElse("no failure event");
            throw new IllegalStateException(failed + " of " + count + " models failed, the first with " + reason);
        }
        return count / ((last - first) / 60e9);
    }

    /** Reads events until every outcome is done; returns when each model's result (or failure) arrived. */
    private static Map<String, Long> await(EventFeed feed, Map<String, ModelOutcome> outcomes) {
        Map<String, Long> answered = new HashMap<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        // The clock stops at the result event; the benchmark event follows it and is waited for too.
        while (!outcomes.values().stream().allMatch(ModelOutcome::done)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no answer within " + WAIT + " for " + outcomes.keySet());
            }
            for (EventFeed.OutputEvent event : feed.poll(Duration.ofMillis(100))) {
                ModelOutcome outcome = outcomes.get(event.key());
                if (outcome == null || !outcome.accept(event)) {
                    continue;
                }
                boolean answer = event.topic().equals(EventFeed.RESULTS) || event.topic().equals(EventFeed.FAILURES);
                if (answer) {
                    answered.putIfAbsent(event.key(), event.receivedNanos());
                }
            }
        }
        return answered;
    }

    private static Timing timing(String modelId, ModelOutcome outcome, double seconds) {
        ModelOutcome.ProfileOutcome profile = outcome.profiles().get(0);
        if (profile.failure().isPresent()) {
            throw new IllegalStateException(modelId + " failed: " + profile.failure().get().path("reason").asText());
        }
        var result = profile.result().orElseThrow();
        var fidelity = result.path("fidelity").path("outputs").path(0);
        return new Timing(modelId, seconds, profile.status().filter("complete"::equals).isPresent(), result.path("replayed").asBoolean(),
                String.format(Locale.ROOT, "%s -> %s (%.2fx), output cosine %.4f (worst %.4f) on %s",
                        Format.bytes(result.path("sizes").path("originalBytes").asLong()),
                        Format.bytes(result.path("sizes").path("compressedBytes").asLong()),
                        result.path("sizes").path("sizeRatio").asDouble(), fidelity.path("meanCosine").asDouble(),
                        fidelity.path("minCosine").asDouble(), result.path("fidelity").path("data").asText().split(":")[0]));
    }

    private void report(Path small, Path large, List<Timing> smallRuns, List<Timing> replays, List<Timing> largeRuns,
            int burst, double one, double two) {
        System.out.println();
        System.out.printf("Chain %s for profile %s, named in each event; %d events in all.%n%n", String.join(" -> ", CHAIN),
                PROFILE, registered);
        System.out.println("| case | model | runs (s) | median (s) | result |");
        System.out.println("| --- | --- | --- | --- | --- |");
        row("event to result, new model", small, smallRuns);
        row("event to result, same event again (answered from storage)", small, replays);
        row("event to result, new model", large, largeRuns);
        System.out.println();
        System.out.println("| small-model events at once | models in flight | events per minute |");
        System.out.println("| --- | --- | --- |");
        System.out.printf(Locale.ROOT, "| %d | 1 | %.1f |%n", burst, one);
        System.out.printf(Locale.ROOT, "| %d | 2 | %.1f (%.2fx) |%n", burst, two, two / one);
    }

    private static void row(String what, Path model, List<Timing> runs) {
        double[] seconds = runs.stream().mapToDouble(Timing::resultSeconds).sorted().toArray();
        String all = String.join(", ", runs.stream().map(run -> String.format(Locale.ROOT, "%.2f", run.resultSeconds())).toList());
        System.out.printf(Locale.ROOT, "| %s | %s (%s) | %s | %.2f | %s%s |%n", what, model.getFileName(),
                Format.bytes(size(model)), all, median(seconds), runs.isEmpty() ? "" : runs.get(0).ratio(),
                runs.stream().allMatch(Timing::replayed) ? ", replayed" : "");
    }

    private static double median(double[] sorted) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return -1;
        }
    }

    /** What else ran: the machine is shared, so say how busy it was. */
    private static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return fields[0] + ", " + fields[1] + ", " + fields[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static void log(String line) {
        System.err.println(line);
    }
}

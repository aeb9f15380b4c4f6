package io.modelpress.compressor;

import static io.modelpress.compressor.EventLog.RESULTS;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * bench/scale.sh: the same 30 small models through 1, 2 and 3 instances of the packaged service
 * (each run on a fresh broker and S3 server), then, with three instances, the time each hand-over
 * takes after a SIGKILL and after a SIGTERM. Prints markdown; progress goes to stderr.
 * Usage: ScaleBench work-folder
 */
public final class ScaleBench {

    private static final int STOPS = 5;

    private ScaleBench() {
    }

    public static void main(String[] args) throws Exception {
        Path work = Files.createDirectories(Path.of(args.length > 0 ? args[0] : "target/scale-bench").toAbsolutePath());
        StringBuilder throughput = new StringBuilder();
        throughput.append("| instances | 30 models, first event to last result | models/min | event-to-result p50 | p95 |\n");
        throughput.append("| --- | ---: | ---: | ---: | ---: |\n");
        String handOver = "";
        String stops = "";
        for (int instances = 1; instances <= 3; instances++) {
            System.err.printf("%d instance(s)...%n", instances);
            Path folder = Files.createDirectories(work.resolve("run-" + instances + "-" + System.nanoTime()));
            try (ServiceCluster cluster = new ServiceCluster(folder, folder.resolve("logs"))) {
                Map<String, String> events = ScaleOutIT.models(cluster, null);
                String[] names = new String[instances];
                for (int i = 0; i < instances; i++) {
                    names[i] = "i" + i;
                }
                List<ServiceCluster.Instance> running = ScaleOutIT.startAll(cluster, names);
                cluster.awaitAssignment(instances, ScaleOutIT.PARTITIONS, Set.of(), System.nanoTime());
                try (EventLog log = new EventLog(cluster.bootstrapServers())) {
                    log.drain(Duration.ofSeconds(1));
                    Map<String, Long> sent = new HashMap<>();
                    long start = System.nanoTime();
                    events.forEach((id, data) -> {
                        sent.put(id, System.currentTimeMillis());
                        log.sendBinary(id, "registered-" + id.replace('/', '-'), data);
                    });
                    ScaleOutIT.awaitResults(log, events.keySet());
                    double seconds = (System.nanoTime() - start) / 1e9;
                    List<Long> latencies = new ArrayList<>();
                    for (String id : events.keySet()) {
                        long first = log.matching(e -> e.topic().equals(RESULTS) && id.equals(e.key())).stream()
                                .mapToLong(EventLog.Event::timestamp).min().orElseThrow();
                        latencies.add(first - sent.get(id));
                    }
                    latencies.sort(null);
                    throughput.append(String.format(Locale.ROOT, "| %d | %.1f s | %.1f | %.1f s | %.1f s |%n",
                            instances, seconds, ScaleOutIT.MODELS * 60 / seconds, percentile(latencies, 0.50) / 1000.0,
                            percentile(latencies, 0.95) / 1000.0));
                    if (instances == 3) {
                        handOver = handOvers(cluster, running);
                    }
                    if (instances == 1) {
                        running.get(0).terminate();
                        stops = stopsInFlight(cluster, log);
                    }
                }
                for (ServiceCluster.Instance instance : running) {
                    if (instance.process.isAlive()) {
                        instance.terminate();
                    }
                }
            }
        }
        System.out.println("### Throughput and event-to-result time\n");
        System.out.println(throughput);
        System.out.println("### Hand-over (three instances, signal to all six partitions assigned to the others)\n");
        System.out.println(handOver);
        System.out.println("### SIGTERM while models run in ONNX Runtime (one instance, the planner at work, shutdown grace 5 s)\n");
        System.out.println(stops);
    }

    /**
     * Stops one instance with SIGTERM again and again while it compresses and benchmarks models in
     * ONNX Runtime (the planner trying chains; a shutdown grace of 5 s, so they go on running after the signal): the
     * exit code and whether the JVM crashed in native code, each time.
     */
    private static String stopsInFlight(ServiceCluster cluster, EventLog log) throws Exception {
        cluster.set("MODELPRESS_SHUTDOWN_GRACE", "5s");
        StringBuilder table = new StringBuilder("| try | signal after the model started | exit code | native crash |\n"
                + "| ---: | ---: | ---: | --- |\n");
        java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        for (int attempt = 1; attempt <= STOPS; attempt++) {
            ServiceCluster.Instance instance = cluster.start("stop" + attempt);
            String id = "stop/m" + attempt;
            String uri = Fixtures.storeWithExternalData(cluster.s3(), io.modelpress.testkit.TestModels.mlp(64, 256, 10,
                    attempt), "registry/stop/" + attempt, Files.createDirectories(cluster.folder().resolve("stop")));
            com.fasterxml.jackson.databind.node.ObjectNode registered = Fixtures.unsigned(id, uri, "x86-vnni");
            registered.put("sha256", Fixtures.sha256Of(cluster.s3(), uri));
            log.sendBinary(id, "registered-stop-" + attempt, registered.toString());
            log.await(event -> event.topic().equals(EventLog.PROGRESS) && id.equals(event.key()), 1,
                    ServiceCluster.WAIT);
            long delay = random.nextLong(200, 3000);
            Thread.sleep(delay);
            int code = instance.terminate();
            table.append(String.format(Locale.ROOT, "| %d | %d ms | %d | %s |%n", attempt, delay, code,
                    instance.crashed() ? "yes" : "no"));
        }
        return table.toString();
    }

    private static String handOvers(ServiceCluster cluster, List<ServiceCluster.Instance> running) throws Exception {
        long killedAt = System.nanoTime();
        int killed = running.get(0).kill();
        long afterKill = cluster.awaitAssignment(2, ScaleOutIT.PARTITIONS, Set.of(), killedAt);
        long termAt = System.nanoTime();
        running.get(1).process.destroy();
        long afterTerm = cluster.awaitAssignment(1, ScaleOutIT.PARTITIONS, Set.of(), termAt);
        int stopped = running.get(1).terminate();
        return "| signal | hand-over | exit code | native crash |\n| --- | ---: | ---: | --- |\n"
                + String.format(Locale.ROOT, "| SIGKILL | %.1f s | %d | - |%n", afterKill / 1000.0, killed)
                + String.format(Locale.ROOT, "| SIGTERM | %.1f s | %d | %s |%n", afterTerm / 1000.0, stopped,
                        running.get(1).crashed() ? "yes" : "no");
    }

    private static long percentile(List<Long> sorted, double p) {
        int index = (int) Math.ceil(p * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }
}

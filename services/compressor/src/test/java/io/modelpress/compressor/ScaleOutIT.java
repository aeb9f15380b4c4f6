package io.modelpress.compressor;

import com.fasterxml.jackson.databind.node.ObjectNode;

import static io.modelpress.compressor.EventLog.FAILURES;
import static io.modelpress.compressor.EventLog.PROGRESS;
import static io.modelpress.compressor.EventLog.RESULTS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.compressor.testplugins.HoldPlugin;
import io.modelpress.testkit.TestModels;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three instances of the packaged service in one group on a six-partition topic, 30 models: one
 * instance is SIGKILLed and another SIGTERMed while each is in the middle of a model, both come back,
 * and still every model gets exactly one result (by CloudEvent id), no failure, no object in S3 is
 * written twice, no JVM crashes, and the group's lag ends at 0. Each hand-over (signal to the
 * partitions being assigned to the remaining members) is measured and printed.
 */
class ScaleOutIT {

    static final int MODELS = 30;
    static final int PARTITIONS = 6;

    @TempDir
    Path temp;

    @Test
    void threeInstancesLoseNothingAndWriteNothingTwiceWhenOneIsKilledAndOneStopped() throws Exception {
        Path hold = Files.createFile(temp.resolve("hold"));
        try (ServiceCluster cluster = new ServiceCluster(temp, Path.of("target", "scale-out"))) {
            Path plugins = holdPluginJar(temp.resolve("plugins"));
            cluster.set("MODELPRESS_PLUGINS_DIR", plugins.toString());
            cluster.set("MODELPRESS_PLUGINS_ALLOWED", TestPluginJars.allowingAll(plugins));
            Map<String, String> events = models(cluster, hold);
            List<ServiceCluster.Instance> first = startAll(cluster, "a", "b", "c");
            cluster.awaitAssignment(3, PARTITIONS, Set.of(), System.nanoTime());
            try (EventLog log = new EventLog(cluster.bootstrapServers())) {
                events.forEach((id, data) -> log.sendBinary(id, "registered-" + id.replace('/', '-'), data));
                // The held models went first, one per partition: every instance is now in the middle of one.
                Set<String> held = held(events);
                awaitHeld(log, held, first.size());

                long killedAt = System.nanoTime();
                int killedCode = first.get(0).kill();
                long afterKill = cluster.awaitAssignment(2, PARTITIONS, Set.of(), killedAt);

                ServiceCluster.Instance stopped = first.get(1);
                long termAt = System.nanoTime();
                stopped.process.destroy();
                long afterTerm = cluster.awaitAssignment(1, PARTITIONS, Set.of(), termAt);
                int stoppedCode = stopped.terminate();
                System.out.printf("hand-over after SIGKILL: %d ms; after SIGTERM: %d ms%n", afterKill, afterTerm);
                Files.writeString(Path.of("target", "scale-out-handover.txt"), "sigkill-ms=" + afterKill
                        + "\nsigterm-ms=" + afterTerm + "\n");

                assertEquals(137, killedCode, "SIGKILL");
                assertTrue(stoppedCode == 0 || stoppedCode == 143, () -> "SIGTERM exit code " + stoppedCode);
                assertFalse(stopped.crashed(), () -> "the stopped instance crashed:\n" + stopped.read());
                assertTrue(stopped.read().contains("abandoning 1 model(s) still in flight"),
                        () -> "it was in the middle of a model:\n" + stopped.read());

                Files.delete(hold);
                // One comes back as a static member, named through the documented environment variable.
                CompletableFuture<ServiceCluster.Instance> b2 = CompletableFuture.supplyAsync(() -> {
                    try {
                        return cluster.start("b", Map.of("MODELPRESS_INSTANCE_ID", "compressor-b"));
                    } catch (Exception e) {
                        throw new IllegalStateException("b2 did not start: " + e.getMessage(), e);
                    }
                });
                ServiceCluster.Instance a2 = cluster.start("a");
                List<ServiceCluster.Instance> running = List.of(first.get(2), a2, b2.join());
                cluster.awaitAssignment(3, PARTITIONS, Set.of(), System.nanoTime());
                assertEquals(Set.of("compressor-b"), cluster.staticMembers(), "MODELPRESS_INSTANCE_ID is group.instance.id");

                Map<String, Set<String>> resultIds = awaitResults(log, events.keySet());
                assertEquals(Map.of(), cluster.awaitNoLag(), "every record committed (lag by partition)");
                log.drain(Duration.ofSeconds(3));
                resultIds = resultIds(log, events.keySet());
                for (String id : events.keySet()) {
                    assertEquals(1, resultIds.get(id).size(), "one result (by CloudEvent id) for " + id + ": "
                            + resultIds.get(id));
                }
                List<EventLog.Event> failures = log.matching(event -> event.topic().equals(FAILURES));
                assertEquals(List.of(), failures, "no failure: a stop or a crash is no failure of a model");

                Map<String, Integer> writes = cluster.writes();
                // The crash ledger's markers and heartbeats are rewritten by design, unlike the outputs.
                Map<String, Integer> outputs = writes.entrySet().stream().filter(e -> e.getKey().contains("/modelpress/"))
                        .filter(e -> !e.getKey().contains("/" + CrashLedger.PREFIX))
                        .filter(e -> !e.getKey().contains("/" + CrashLedger.RUNS))
                        .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
                assertTrue(outputs.size() >= 3 * MODELS, () -> "model, report and index of each model: " + writes);
                Map<String, Integer> twice = new TreeMap<>(outputs);
                twice.values().removeIf(count -> count == 1);
                assertEquals(Map.of(), twice, "objects written more than once");

                for (ServiceCluster.Instance instance : running) {
                    int code = instance.terminate();
                    assertTrue(code == 0 || code == 143, () -> instance.name + " exit code " + code);
                    assertFalse(instance.crashed(), () -> instance.name + " crashed:\n" + instance.read());
                }
            }
        }
    }

    /**
     * The events, held ones first: per partition the first model that lands on it waits on the hold
     * file, so each instance is in the middle of a model when the test kills and stops them. Without
     * a hold file, every model runs straight through.
     */
    static Map<String, String> models(ServiceCluster cluster, Path hold) throws Exception {
        Map<String, String> heldFirst = new LinkedHashMap<>();
        Map<String, String> rest = new LinkedHashMap<>();
        Set<Integer> partitionsWithHold = new java.util.HashSet<>();
        Path files = Files.createDirectories(cluster.folder().resolve("models"));
        for (int i = 0; i < MODELS; i++) {
            String id = "scale/m" + i;
            String uri = Fixtures.storeWithExternalData(cluster.s3(), TestModels.mlp(8, 16, 3, 100 + i),
                    "registry/scale/" + i, files);
            boolean holds = hold != null && partitionsWithHold.add(ServiceCluster.partitionOf(id, PARTITIONS));
            ObjectNode registered = Fixtures.unsigned(id, uri, "x86-vnni");
            registered.put("sha256", Fixtures.sha256Of(cluster.s3(), uri));
            String data = holds
                    ? Fixtures.withChain(registered, "graph-cleanup", "test-hold:hold-file=" + hold).toString()
                    : Fixtures.withChain(registered, "graph-cleanup").toString();
            (holds ? heldFirst : rest).put(id, data);
        }
        heldFirst.putAll(rest);
        return heldFirst;
    }

    private static Set<String> held(Map<String, String> events) {
        return events.entrySet().stream().filter(e -> e.getValue().contains("test-hold")).map(Map.Entry::getKey)
                .collect(Collectors.toSet());
    }

    private static void awaitHeld(EventLog log, Set<String> held, int instances) {
        log.await(event -> event.topic().equals(PROGRESS) && held.contains(event.key())
                && event.data().path("stage").asText().contains("test-hold"), 1, ServiceCluster.WAIT);
        long deadline = System.nanoTime() + ServiceCluster.WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            long holding = log.matching(event -> event.topic().equals(PROGRESS) && held.contains(event.key())
                    && event.data().path("stage").asText().contains("test-hold")).stream().map(EventLog.Event::key)
                    .distinct().count();
            if (holding >= instances) {
                return;
            }
            log.drain(Duration.ofMillis(300));
        }
        throw new AssertionError("not every instance started a held model within " + ServiceCluster.WAIT);
    }

    static List<ServiceCluster.Instance> startAll(ServiceCluster cluster, String... names) throws Exception {
        List<CompletableFuture<ServiceCluster.Instance>> starting = new ArrayList<>();
        for (String name : names) {
            starting.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return cluster.start(name);
                } catch (Exception e) {
                    throw new IllegalStateException(name + " did not start: " + e.getMessage(), e);
                }
            }));
        }
        List<ServiceCluster.Instance> started = new ArrayList<>();
        for (CompletableFuture<ServiceCluster.Instance> instance : starting) {
            started.add(instance.join());
        }
        return started;
    }

    /** Waits until every model has a result; returns the CloudEvent ids of each model's results. */
    static Map<String, Set<String>> awaitResults(EventLog log, Set<String> ids) {
        long deadline = System.nanoTime() + ServiceCluster.WAIT.toNanos();
        while (true) {
            Map<String, Set<String>> found = resultIds(log, ids);
            if (found.values().stream().noneMatch(Set::isEmpty)) {
                return found;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("results within " + ServiceCluster.WAIT + ": " + found + "; failures: "
                        + log.matching(event -> event.topic().equals(FAILURES)));
            }
            log.drain(Duration.ofMillis(500));
        }
    }

    static Map<String, Set<String>> resultIds(EventLog log, Set<String> ids) {
        Map<String, Set<String>> found = new TreeMap<>();
        ids.forEach(id -> found.put(id, new java.util.TreeSet<>()));
        for (EventLog.Event event : log.matching(event -> event.topic().equals(RESULTS) && ids.contains(event.key()))) {
            found.get(event.key()).add(event.header("ce_id"));
        }
        return found;
    }

    /** The hold step as a third-party plugin jar in the plugins folder. */
    static Path holdPluginJar(Path folder) throws IOException, URISyntaxException {
        Files.createDirectories(folder);
        Path classes = Path.of(HoldPlugin.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        String entry = HoldPlugin.class.getName().replace('.', '/') + ".class";
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(folder.resolve("test-hold.jar")))) {
            out.putNextEntry(new JarEntry("META-INF/services/io.modelpress.spi.CompressionPlugin"));
            out.write((HoldPlugin.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
            out.putNextEntry(new JarEntry(entry));
            out.write(Files.readAllBytes(classes.resolve(entry)));
            out.closeEntry();
        }
        return folder;
    }
}

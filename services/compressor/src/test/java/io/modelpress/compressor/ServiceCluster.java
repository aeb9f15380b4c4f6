package io.modelpress.compressor;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.minio.MinioClient;
import io.modelpress.localstack.LocalStack;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Utils;

/**
 * A real broker and S3 server with several instances of the packaged service in one consumer group,
 * each a child JVM started from the quarkus-app as in production; for the scale-out test and bench.
 */
final class ServiceCluster implements AutoCloseable {

    static final String GROUP = "modelpress-compressor";
    static final Duration WAIT = Duration.ofSeconds(240);
    private static final Pattern LISTENING = Pattern.compile("Listening on: http://[^:]+:(\\d+)");
    private static final Pattern S3_PUT = Pattern.compile("request: .*\\{PUT@\\w+ https?://[^/]+/([^ ?]+)");

    private final Path folder;
    private final Path logs;
    private final LocalStack stack;
    private final MinioClient s3;
    private final Admin admin;
    private final Map<String, String> settings = new HashMap<>();
    private final List<Instance> started = new ArrayList<>();

    /** Instances' consoles go to {@code logs}, which outlives {@code folder} so that a failure can be read. */
    ServiceCluster(Path folder, Path logs) throws Exception {
        this.folder = folder;
        this.logs = Files.createDirectories(logs);
        try (Stream<Path> old = Files.list(logs)) {
            for (Path file : old.filter(Files::isRegularFile).toList()) {
                Files.delete(file); // a fresh cluster: earlier runs' logs would only mislead
            }
        }
        this.stack = LocalStack.builder().workFolder(folder.resolve("stack")).s3RequestLog(true).start();
        this.s3 = LocalStackResource.withBucket(stack);
        this.admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()));
        settings.putAll(LocalStackResource.serviceEnvironment(stack, folder.resolve("work")));
        settings.put("MODELPRESS_SHUTDOWN_GRACE", "1s");
        settings.put("MODELPRESS_PROGRESS_INTERVAL", "1s");
        settings.put("MODELPRESS_TOPICS_PARTITIONS", "6");
        settings.put("MODELPRESS_INPUTS_ALLOWED", LocalStackResource.BUCKET + "/registry/");
        // The connector's commits and rebalances in each instance's log, so that a lag left at the end can be traced.
        settings.put("QUARKUS_LOG_CATEGORY__IO_SMALLRYE_REACTIVE_MESSAGING_KAFKA__LEVEL", "DEBUG");
    }

    Path folder() {
        return folder;
    }

    MinioClient s3() {
        return s3;
    }

    String bootstrapServers() {
        return stack.bootstrapServers();
    }

    /** A setting given to every instance started from now on. */
    void set(String name, String value) {
        settings.put(name, value);
    }

    Instance start(String name) throws Exception {
        return started(Instance.start(name, settings, folder, logs));
    }

    /** An instance with settings of its own besides the shared ones. */
    Instance start(String name, Map<String, String> own) throws Exception {
        Map<String, String> all = new HashMap<>(settings);
        all.putAll(own);
        return started(Instance.start(name, all, folder, logs));
    }

    private Instance started(Instance instance) {
        synchronized (started) {
            started.add(instance);
        }
        return instance;
    }

    /** The static member ids ({@code group.instance.id}) in the group. */
    Set<String> staticMembers() throws Exception {
        return admin.describeConsumerGroups(List.of(GROUP)).all().get(10, TimeUnit.SECONDS).get(GROUP).members()
                .stream().flatMap(member -> member.groupInstanceId().stream()).collect(Collectors.toSet());
    }

    /** The partition of the input topic that a key goes to (the producer's default partitioner). */
    static int partitionOf(String key, int partitions) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
    }

    /** Members of the group, each with the partitions assigned to it; empty when the group has none. */
    Map<String, Set<Integer>> assignment() throws Exception {
        ConsumerGroupDescription group = admin.describeConsumerGroups(List.of(GROUP)).all().get(10, TimeUnit.SECONDS)
                .get(GROUP);
        Map<String, Set<Integer>> members = new TreeMap<>();
        for (MemberDescription member : group.members()) {
            members.put(member.consumerId(), member.assignment().topicPartitions().stream()
                    .filter(partition -> partition.topic().equals(EventLog.IN)).map(TopicPartition::partition)
                    .collect(Collectors.toSet()));
        }
        return members;
    }

    /**
     * Waits until exactly {@code members} members hold all {@code partitions} partitions between them,
     * none of them one of {@code gone}; returns the milliseconds from {@code sinceNanos}.
     */
    long awaitAssignment(int members, int partitions, Set<String> gone, long sinceNanos) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            Map<String, Set<Integer>> now = assignment();
            long assigned = now.values().stream().mapToLong(Set::size).sum();
            if (now.size() == members && assigned == partitions && now.keySet().stream().noneMatch(gone::contains)) {
                return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sinceNanos);
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the group did not settle on " + members + " member(s) within " + WAIT + ": "
                + assignment());
    }

    /** Records of the input topic not yet committed by the group. */
    /** Records not yet committed, by partition of the input topic; a partition without lag is left out. */
    Map<TopicPartition, Long> lag() throws Exception {
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(GROUP)
                .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        admin.describeTopics(List.of(EventLog.IN)).allTopicNames().get(10, TimeUnit.SECONDS).get(EventLog.IN)
                .partitions().forEach(info -> latest.put(new TopicPartition(EventLog.IN, info.partition()),
                        OffsetSpec.latest()));
        Map<TopicPartition, Long> lag = new TreeMap<>(Comparator.comparing(TopicPartition::toString));
        for (var end : admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS).entrySet()) {
            OffsetAndMetadata offset = committed.get(end.getKey());
            long behind = end.getValue().offset() - (offset == null ? 0 : offset.offset());
            if (behind != 0) {
                lag.put(end.getKey(), behind);
            }
        }
        return lag;
    }

    /** Waits for the group to commit every record; what still lags when the wait ends. */
    Map<TopicPartition, Long> awaitNoLag() throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        Map<TopicPartition, Long> lag = lag();
        while (!lag.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(500);
            lag = lag();
        }
        return lag;
    }

    /** How many times each object was written (PUT), from the S3 server's request log. */
    Map<String, Integer> writes() throws IOException {
        Map<String, Integer> writes = new TreeMap<>();
        Path log = stack.workFolder().resolve("s3").resolve("s3proxy.log");
        try (Stream<String> lines = Files.lines(log, StandardCharsets.UTF_8)) {
            lines.forEach(line -> {
                Matcher put = S3_PUT.matcher(line);
                if (put.find()) {
                    writes.merge(put.group(1), 1, Integer::sum);
                }
            });
        }
        return writes;
    }

    /** Also ends every instance still running (a failed test stops half way), so that none outlives the test. */
    @Override
    public void close() {
        synchronized (started) {
            for (Instance instance : started) {
                if (instance.process.isAlive()) {
                    instance.process.destroyForcibly();
                    try {
                        instance.process.waitFor(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        }
        admin.close(Duration.ofSeconds(5));
        stack.close();
    }

    /**
     * One service JVM. Its console is appended to {@code instance-<name>.log} in the cluster's log folder
     * (a restart under the same name continues the file), a native crash report to {@code hs_err_<name>.log}.
     */
    static final class Instance {

        final String name;
        final Process process;
        final Path log;
        final Path crashReport;
        /** Where this run's console starts in the log, which may hold earlier runs under the same name. */
        private final long logStart;

        private Instance(String name, Process process, Path log, Path crashReport, long logStart) {
            this.name = name;
            this.process = process;
            this.log = log;
            this.crashReport = crashReport;
            this.logStart = logStart;
        }

        static Instance start(String name, Map<String, String> settings, Path folder, Path logs) throws Exception {
            Path jar = Path.of(System.getProperty("modelpress.service.jar", "target/quarkus-app/quarkus-run.jar"));
            assertTrue(Files.isRegularFile(jar), () -> jar + " is missing: package the module first");
            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            Path log = logs.resolve("instance-" + name + ".log");
            Path crash = logs.resolve("hs_err_" + name + "-" + System.nanoTime() + ".log");
            Files.writeString(log, "=== " + Instant.now() + " start of " + name + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            long logStart = Files.size(log);
            List<String> command = new ArrayList<>(List.of(java.toString(), "-Xmx512m", "-XX:ErrorFile=" + crash,
                    "-jar", jar.toString()));
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            builder.environment().putAll(settings);
            Instance instance = new Instance(name, builder.start(), log, crash, logStart);
            try {
                instance.awaitReady();
            } catch (Exception | AssertionError e) {
                instance.process.destroyForcibly();
                throw e;
            }
            return instance;
        }

        private void awaitReady() throws Exception {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                assertTrue(process.isAlive(), () -> name + " exited:\n" + read());
                Matcher port = LISTENING.matcher(read());
                if (port.find()) {
                    try {
                        HttpResponse<String> health = http.send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + port.group(1) + "/q/health/ready")).build(),
                                HttpResponse.BodyHandlers.ofString());
                        if (health.statusCode() == 200) {
                            return;
                        }
                    } catch (IOException notYet) {
                        // still starting
                    }
                }
                Thread.sleep(250);
            }
            throw new AssertionError(name + " was not ready within " + WAIT + ":\n" + read());
        }

        /** SIGKILL: no shutdown at all, as when a node dies. */
        int kill() throws InterruptedException {
            process.destroyForcibly();
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), name + " did not die of SIGKILL");
            return process.exitValue();
        }

        /** SIGTERM, as Kubernetes stops a pod; returns the exit code. */
        int terminate() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError(name + " did not stop within 120 s of SIGTERM:\n" + read());
            }
            return process.exitValue();
        }

        boolean crashed() {
            return Files.exists(crashReport) || read().contains("SIGSEGV") || read().contains("SIGBUS");
        }

        /** This run's console (not that of an earlier run under the same name). */
        String read() {
            try {
                byte[] all = Files.readAllBytes(log);
                int from = (int) Math.min(logStart, all.length);
                return new String(all, from, all.length - from, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(no log: " + e.getMessage() + ")";
            }
        }
    }
}

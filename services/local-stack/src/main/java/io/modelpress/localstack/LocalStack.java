package io.modelpress.localstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLSocketFactory;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Uuid;

/**
 * A real single-node Kafka broker (KRaft) and a real S3-compatible server (S3Proxy on the file
 * system, checking SigV4 signatures like MinIO), each a child JVM with its own class path, on free
 * loopback ports, with their data and logs in one work folder. For tests and for trying modelpress
 * without Docker. {@link #close()} stops both; so does a JVM shutdown hook (Ctrl-C), and each child
 * also stops by itself when this JVM dies.
 *
 * <p>With {@link Builder#tls(boolean)} the broker also listens with SASL_SSL (SCRAM-SHA-512, a user
 * created when its storage is formatted) and the S3 server speaks only https, both presenting a
 * server certificate made for the run and signed by a CA made for the run ({@link #certificates()}).
 * The broker keeps its plaintext listener on the loopback address for the stack's own readiness check
 * and for tests that inspect it; {@link #environment()} gives a service only the secure endpoints.
 *
 * <pre>{@code
 * try (LocalStack stack = LocalStack.builder().workFolder(dir).start()) {
 *     stack.bootstrapServers(); stack.s3Endpoint(); stack.accessKey(); stack.secretKey();
 * }
 * }</pre>
 */
public final class LocalStack implements AutoCloseable {

    private static final String KAFKA_MAIN = "kafka.Kafka";
    private static final String STORAGE_TOOL = "kafka.tools.StorageTool";
    private static final String S3PROXY_MAIN = "org.gaul.s3proxy.Main";
    private static final Duration STOP_GRACE = Duration.ofSeconds(15);
    private static final String SCRAM = "SCRAM-SHA-512";

    private final Path workFolder;
    private final String accessKey;
    private final String secretKey;
    private final boolean tls;
    private final String kafkaUser;
    private final String kafkaPassword;
    private Certificates certificates;
    private String secureBootstrapServers;
    private final List<ChildProcess> children = new ArrayList<>();
    private final Thread shutdownHook;
    private String bootstrapServers;
    private URI s3Endpoint;
    private volatile boolean closed;
    private Restartable kafka;
    private Restartable s3;

    /** How to start a server again on the same port with the same data: for fault tests. */
    private record Restartable(String name, List<Path> classPath, List<String> jvm, String main, List<String> args,
            Path folder, Path log) {
        ChildProcess start() {
            try {
                return ChildProcess.start(name, classPath, jvm, main, args, folder, log);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start the " + name, e);
            }
        }
    }

    private LocalStack(Builder builder) {
        this.workFolder = builder.workFolder;
        this.accessKey = builder.accessKey;
        this.secretKey = builder.secretKey;
        this.tls = builder.tls;
        this.kafkaUser = builder.kafkaUser;
        this.kafkaPassword = builder.kafkaPassword;
        this.shutdownHook = new Thread(this::stopChildren, "local-stack-shutdown");
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Both servers in {@code workFolder} with the default settings. */
    public static LocalStack start(Path workFolder) {
        return builder().workFolder(workFolder).start();
    }

    /** {@code host:port} of the broker's plaintext listener. */
    public String bootstrapServers() {
        return Optional.ofNullable(bootstrapServers).orElseThrow(() -> new IllegalStateException("Kafka was not started"));
    }

    /** {@code http://127.0.0.1:port} of the S3 server (path-style buckets). */
    public URI s3Endpoint() {
        return Optional.ofNullable(s3Endpoint).orElseThrow(() -> new IllegalStateException("S3 was not started"));
    }

    /** {@code host:port} of the broker's SASL_SSL listener (SCRAM-SHA-512); only with {@link Builder#tls(boolean)}. */
    public String secureBootstrapServers() {
        return Optional.ofNullable(secureBootstrapServers)
                .orElseThrow(() -> new IllegalStateException("Kafka was not started with TLS"));
    }

    /** The CA and server certificate of the TLS listeners; only with {@link Builder#tls(boolean)}. */
    public Certificates certificates() {
        return Optional.ofNullable(certificates).orElseThrow(() -> new IllegalStateException("TLS is off"));
    }

    /** Whether the servers were started with TLS listeners. */
    public boolean tls() {
        return tls;
    }

    /** The SCRAM user the broker knows (with {@link Builder#tls(boolean)}). */
    public String kafkaUser() {
        return kafkaUser;
    }

    public String kafkaPassword() {
        return kafkaPassword;
    }

    /**
     * Kafka client settings for the broker: its SASL_SSL listener with the SCRAM user and the CA as a
     * PEM trust store when TLS is on, the plaintext listener otherwise.
     */
    public Map<String, Object> kafkaClientSettings() {
        if (!tls) {
            return Map.of("bootstrap.servers", bootstrapServers());
        }
        return Map.of("bootstrap.servers", secureBootstrapServers(),
                "security.protocol", "SASL_SSL",
                "sasl.mechanism", SCRAM,
                "sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                        + kafkaUser + "\" password=\"" + kafkaPassword + "\";",
                "ssl.truststore.type", "PEM",
                "ssl.truststore.location", certificates().caPem().toString());
    }

    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    public Path workFolder() {
        return workFolder;
    }

    /**
     * The settings a modelpress service needs, as environment variable names and values: with TLS,
     * the SASL_SSL listener, the SCRAM user, the https endpoint and the CA file for both.
     */
    public Map<String, String> environment() {
        if (tls) {
            return Map.of("KAFKA_BOOTSTRAP_SERVERS", secureBootstrapServers(),
                    "MODELPRESS_KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
                    "MODELPRESS_KAFKA_SASL_USERNAME", kafkaUser,
                    "MODELPRESS_KAFKA_SASL_PASSWORD", kafkaPassword,
                    "MODELPRESS_KAFKA_TRUSTSTORE", certificates().caPem().toString(),
                    "MODELPRESS_S3_ENDPOINT", s3Endpoint().toString(),
                    "MODELPRESS_S3_CA_FILE", certificates().caPem().toString(),
                    "MODELPRESS_S3_ACCESS_KEY", accessKey,
                    "MODELPRESS_S3_SECRET_KEY", secretKey);
        }
        return Map.of("KAFKA_BOOTSTRAP_SERVERS", bootstrapServers(),
                "MODELPRESS_S3_ENDPOINT", s3Endpoint().toString(),
                "MODELPRESS_S3_ACCESS_KEY", accessKey,
                "MODELPRESS_S3_SECRET_KEY", secretKey);
    }

    /** Stops both servers (the broker cleanly, then by force after a grace period). Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        stopChildren();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException ignored) {
            // the JVM is already shutting down and the hook runs or ran
        }
    }

    /**
     * Stops the S3 server, as an outage would; {@link #startS3()} brings it back on the same port
     * with the same data. For tests of how clients live through an outage.
     */
    public synchronized void stopS3() {
        stopChild(s3, "S3 was not started");
    }

    /** Starts the S3 server again after {@link #stopS3()}, on the same port, and waits until it answers. */
    public synchronized void startS3() {
        if (s3 == null) {
            throw new IllegalStateException("S3 was not started");
        }
        ChildProcess server = s3.start();
        children.add(server);
        awaitHttp(server, s3Endpoint(), Duration.ofSeconds(90), certificates);
    }

    /** Stops the broker (cleanly) and starts it again on the same ports with the same data, waiting until it answers. */
    public synchronized void restartKafka() {
        stopChild(kafka, "Kafka was not started");
        ChildProcess broker = kafka.start();
        children.add(broker);
        awaitKafka(broker, bootstrapServers(), Duration.ofSeconds(90));
    }

    private void stopChild(Restartable server, String notStarted) {
        if (server == null) {
            throw new IllegalStateException(notStarted);
        }
        for (ChildProcess child : List.copyOf(children)) {
            if (child.log().equals(server.log())) {
                child.stop(STOP_GRACE);
                children.remove(child);
            }
        }
    }

    private synchronized void stopChildren() {
        closed = true;
        // In reverse: S3 then Kafka, each independently so one slow child never keeps the other alive.
        for (int i = children.size() - 1; i >= 0; i--) {
            children.get(i).stop(STOP_GRACE);
        }
    }

    private void startAll(Builder builder) {
        if (builder.shutdownHook) {
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        }
        try {
            Files.createDirectories(workFolder);
            if (tls) {
                certificates = Certificates.create(workFolder.resolve("tls"));
            }
            if (builder.kafka) {
                startKafka(builder);
            }
            if (builder.s3) {
                startS3(builder);
            }
        } catch (IOException e) {
            close();
            throw new UncheckedIOException("cannot prepare the local stack in " + workFolder, e);
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    private void startKafka(Builder builder) throws IOException {
        List<Path> classPath = builder.kafkaClassPath.orElseGet(() -> ClassPaths.fromBuild(ClassPaths.KAFKA));
        Path folder = workFolder.resolve("kafka");
        Files.createDirectories(folder);
        int port = freePort();
        int controllerPort = freePort();
        int securePort = tls ? freePort() : -1;
        Path config = folder.resolve("server.properties");
        Properties properties = new Properties();
        properties.setProperty("process.roles", "broker,controller");
        properties.setProperty("node.id", "1");
        properties.setProperty("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        properties.setProperty("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        properties.setProperty("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        properties.setProperty("controller.listener.names", "CONTROLLER");
        properties.setProperty("inter.broker.listener.name", "PLAINTEXT");
        properties.setProperty("listener.security.protocol.map", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT");
        if (tls) {
            secureListener(properties, port, controllerPort, securePort);
        }
        properties.setProperty("log.dirs", folder.resolve("data").toString());
        properties.setProperty("num.partitions", String.valueOf(builder.partitions));
        properties.setProperty("auto.create.topics.enable", "true");
        properties.setProperty("offsets.topic.replication.factor", "1");
        properties.setProperty("offsets.topic.num.partitions", "1");
        properties.setProperty("transaction.state.log.replication.factor", "1");
        properties.setProperty("transaction.state.log.min.isr", "1");
        properties.setProperty("share.coordinator.state.topic.replication.factor", "1");
        properties.setProperty("share.coordinator.state.topic.min.isr", "1");
        properties.setProperty("group.initial.rebalance.delay.ms", "0");
        properties.setProperty("log.flush.interval.messages", "1");
        try (var out = Files.newBufferedWriter(config, StandardCharsets.UTF_8)) {
            properties.store(out, "written by modelpress LocalStack");
        }
        List<String> jvm = List.of("-Xmx" + builder.kafkaHeap, "-Xms64m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true");
        Path log = folder.resolve("kafka.log");
        String clusterId = Uuid.randomUuid().toString();
        List<String> format = new ArrayList<>(List.of("format", "-t", clusterId, "-c", config.toString(),
                "--ignore-formatted"));
        if (tls) {
            // KRaft keeps SCRAM credentials in its metadata log: the user exists from the first start.
            format.addAll(List.of("--add-scram", SCRAM + "=[name=" + kafkaUser + ",password=" + kafkaPassword + "]"));
        }
        ChildProcess.run("Kafka storage format", classPath, jvm, STORAGE_TOOL, format, folder,
                folder.resolve("format.log"), builder.startTimeout);
        kafka = new Restartable("Kafka broker", classPath, jvm, KAFKA_MAIN, List.of(config.toString()), folder, log);
        ChildProcess broker = kafka.start();
        children.add(broker);
        String servers = "127.0.0.1:" + port;
        awaitKafka(broker, servers, builder.startTimeout);
        bootstrapServers = servers;
        if (tls) {
            secureBootstrapServers = "127.0.0.1:" + securePort;
        }
    }

    /** A SASL_SSL listener beside the plaintext one: SCRAM-SHA-512 over TLS with the run's server certificate. */
    private void secureListener(Properties properties, int port, int controllerPort, int securePort) {
        properties.setProperty("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort
                + ",SASL_SSL://127.0.0.1:" + securePort);
        properties.setProperty("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port + ",SASL_SSL://127.0.0.1:"
                + securePort);
        properties.setProperty("listener.security.protocol.map",
                "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL");
        properties.setProperty("sasl.enabled.mechanisms", SCRAM);
        properties.setProperty("listener.name.sasl_ssl.sasl.enabled.mechanisms", SCRAM);
        properties.setProperty("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        properties.setProperty("ssl.keystore.type", "PKCS12");
        properties.setProperty("ssl.keystore.location", certificates.keyStore().toString());
        properties.setProperty("ssl.keystore.password", certificates.password());
        properties.setProperty("ssl.key.password", certificates.password());
    }

    private static void awaitKafka(ChildProcess broker, String servers, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Properties config = new Properties();
        config.setProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
        config.setProperty(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
        config.setProperty(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "2000");
        config.setProperty(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "200");
        try (Admin admin = Admin.create(config)) {
            while (true) {
                broker.checkRunning();
                try {
                    if (!admin.describeCluster(new DescribeClusterOptions().timeoutMs(2000)).nodes()
                            .get(3, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (ExecutionException | TimeoutException e) {
                    // not ready yet
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new LocalStackException("interrupted while waiting for the Kafka broker", e);
                }
                if (System.nanoTime() > deadline) {
                    throw broker.failure("did not answer on " + servers + " within " + timeout.toSeconds() + " s");
                }
                sleep(200);
            }
        }
    }

    private void startS3(Builder builder) throws IOException {
        List<Path> classPath = builder.s3ClassPath.orElseGet(() -> ClassPaths.fromBuild(ClassPaths.S3PROXY));
        Path folder = workFolder.resolve("s3");
        Files.createDirectories(folder.resolve("data"));
        int port = freePort();
        URI endpoint = URI.create((tls ? "https" : "http") + "://127.0.0.1:" + port);
        Properties properties = new Properties();
        if (tls) {
            // https only: a client that forgets TLS gets no answer instead of a working plaintext one.
            properties.setProperty("s3proxy.secure-endpoint", endpoint.toString());
            properties.setProperty("s3proxy.keystore-path", certificates.keyStore().toString());
            properties.setProperty("s3proxy.keystore-password", certificates.password());
        } else {
            properties.setProperty("s3proxy.endpoint", endpoint.toString());
        }
        properties.setProperty("s3proxy.authorization", "aws-v2-or-v4");
        properties.setProperty("s3proxy.identity", accessKey);
        properties.setProperty("s3proxy.credential", secretKey);
        properties.setProperty("jclouds.provider", "filesystem-nio2");
        properties.setProperty("jclouds.filesystem.basedir", folder.resolve("data").toString());
        properties.setProperty("jclouds.identity", "local");
        properties.setProperty("jclouds.credential", "local");
        Path config = folder.resolve("s3proxy.properties");
        try (var out = Files.newBufferedWriter(config, StandardCharsets.UTF_8)) {
            properties.store(out, "written by modelpress LocalStack");
        }
        s3 = new Restartable("S3 server (S3Proxy)", classPath,
                List.of("-Xmx" + builder.s3Heap, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                        "-DLOG_LEVEL=" + (builder.s3RequestLog ? "debug" : "info")), S3PROXY_MAIN,
                List.of("--properties", config.toString()), folder, folder.resolve("s3proxy.log"));
        ChildProcess server = s3.start();
        children.add(server);
        awaitHttp(server, endpoint, builder.startTimeout, certificates);
        s3Endpoint = endpoint;
    }

    /** Ready when the server answers HTTP at all: an anonymous request is refused with 403, which is an answer. */
    private static void awaitHttp(ChildProcess server, URI endpoint, Duration timeout, Certificates certificates) {
        long deadline = System.nanoTime() + timeout.toNanos();
        // Over https the check also proves that the server presents the certificate the CA signed.
        SSLSocketFactory tls = certificates == null ? null : certificates.sslContext().getSocketFactory();
        while (true) {
            server.checkRunning();
            try {
                HttpURLConnection connection = (HttpURLConnection) endpoint.toURL().openConnection();
                if (connection instanceof HttpsURLConnection https) {
                    https.setSSLSocketFactory(tls);
                }
                connection.setConnectTimeout(1000);
                connection.setReadTimeout(2000);
                int status = connection.getResponseCode();
                connection.disconnect();
                if (status > 0) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                throw server.failure("did not answer on " + endpoint + " within " + timeout.toSeconds() + " s");
            }
            sleep(100);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalStackException("interrupted while starting the local stack", e);
        }
    }

    @Override
    public String toString() {
        return "LocalStack[kafka=" + bootstrapServers + ", s3=" + s3Endpoint + ", work=" + workFolder + "]";
    }

    /** Settings of a local stack; every one has a default but the work folder. */
    public static final class Builder {
        private Path workFolder;
        private boolean kafka = true;
        private boolean s3 = true;
        private String accessKey = "modelpress";
        private String secretKey = "modelpress-secret";
        private Duration startTimeout = Duration.ofSeconds(90);
        private String kafkaHeap = "512m";
        private String s3Heap = "256m";
        private int partitions = 1;
        private boolean shutdownHook = true;
        private boolean s3RequestLog;
        private boolean tls;
        private String kafkaUser = "modelpress";
        private String kafkaPassword = "modelpress-kafka-secret";
        private Optional<List<Path>> kafkaClassPath = Optional.empty();
        private Optional<List<Path>> s3ClassPath = Optional.empty();

        private Builder() {
        }

        /** Where data, configuration and logs go (created if missing). Required. */
        public Builder workFolder(Path folder) {
            this.workFolder = Objects.requireNonNull(folder, "folder is null");
            return this;
        }

        public Builder kafka(boolean start) {
            this.kafka = start;
            return this;
        }

        public Builder s3(boolean start) {
            this.s3 = start;
            return this;
        }

        /** The S3 server's access key and secret (it checks SigV4 and SigV2 signatures). */
        public Builder credentials(String accessKey, String secretKey) {
            this.accessKey = Objects.requireNonNull(accessKey, "accessKey is null");
            this.secretKey = Objects.requireNonNull(secretKey, "secretKey is null");
            return this;
        }

        /** How long each server may take to answer; past it, start fails with the server's log tail. */
        public Builder startTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("startTimeout must be positive");
            }
            this.startTimeout = timeout;
            return this;
        }

        /** Partitions of topics the broker creates by itself (default 1). */
        public Builder partitions(int partitions) {
            if (partitions < 1) {
                throw new IllegalArgumentException("partitions must be at least 1");
            }
            this.partitions = partitions;
            return this;
        }

        /**
         * Whether a JVM shutdown hook stops the servers (default true). A caller that stops other
         * processes first, which still talk to these servers, closes the stack in its own hook.
         */
        public Builder shutdownHook(boolean install) {
            this.shutdownHook = install;
            return this;
        }

        /**
         * Whether the S3 server logs every request it serves, method and path, to {@code s3/s3proxy.log}
         * (its debug level; default false): a test reads it to count how often each object was written.
         */
        public Builder s3RequestLog(boolean log) {
            this.s3RequestLog = log;
            return this;
        }

        /**
         * Whether the servers get TLS listeners (default false): the broker a SASL_SSL one with a
         * SCRAM-SHA-512 user, the S3 server https only; certificates are made for the run.
         */
        public Builder tls(boolean enable) {
            this.tls = enable;
            return this;
        }

        /** The broker's SCRAM-SHA-512 user (with TLS). */
        public Builder kafkaUser(String user, String password) {
            this.kafkaUser = Objects.requireNonNull(user, "user is null");
            this.kafkaPassword = Objects.requireNonNull(password, "password is null");
            return this;
        }

        /** The broker's heap as a JVM size, e.g. {@code 512m}. */
        public Builder kafkaHeap(String heap) {
            this.kafkaHeap = Objects.requireNonNull(heap, "heap is null");
            return this;
        }

        /** Another class path for the broker (jars of kafka_2.13 and its dependencies, with an SLF4J binding). */
        public Builder kafkaClassPath(List<Path> classPath) {
            this.kafkaClassPath = Optional.of(List.copyOf(classPath));
            return this;
        }

        /** Another class path for S3Proxy (its jar-with-dependencies). */
        public Builder s3ClassPath(List<Path> classPath) {
            this.s3ClassPath = Optional.of(List.copyOf(classPath));
            return this;
        }

        /** Starts what was asked for, waiting until each answers; on failure stops what started and throws. */
        public LocalStack start() {
            if (workFolder == null) {
                throw new IllegalStateException("workFolder is not set");
            }
            LocalStack stack = new LocalStack(this);
            stack.startAll(this);
            return stack;
        }
    }
}

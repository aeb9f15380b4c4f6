package io.modelpress.compressor;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The service's own settings ({@code modelpress.*}); README.md lists them with their environment variables. */
@ConfigMapping(prefix = "modelpress")
public interface CompressorConfig {

    S3 s3();

    /** Topic names; the messaging channels are mapped to them in application.properties. */
    Topics topics();

    /** The Kafka consumer group: instances of the service in one group share the partitions. */
    String consumerGroup();

    Kafka kafka();

    /**
     * This instance's stable name in the group (static membership, KIP-345: group.instance.id, and the
     * consumer's client id), e.g. a StatefulSet pod name. Absent: a new member on every start.
     */
    Optional<String> instanceId();

    /**
     * Longest a received record may stay unacknowledged before the connector declares the consumer
     * stuck: more than (buffered records + models in flight) x the slowest model.
     */
    long maxRecordAgeMs();

    /** Where artifacts are downloaded and compressed; each model gets a folder, removed afterwards. */
    Path workDir();

    /** Largest artifact folder (model plus the files beside it) fetched, in bytes. */
    @WithDefault("2147483648")
    long maxArtifactBytes();

    /**
     * Whether every result must be judged on real data (calibration or evaluation data of the event)
     * before it is published as complete: without it the original is kept, as a profile with
     * {@code require-real-data: true} asks.
     */
    @WithDefault("false")
    boolean requireRealData();

    /** Models compressed at the same time. */
    @WithDefault("1")
    int maxInFlight();

    /** Profiles used when an event names none. */
    @WithDefault("x86-vnni")
    List<String> defaultProfiles();

    /**
     * A chain pinned per profile (keyed by profile id) for events that name none: steps separated by
     * spaces, each {@code ID} or {@code ID:key=value,...}. Profiles without one are planned.
     */
    Map<String, String> defaultChain();

    /** The automatic choice of a chain when neither the event nor the configuration names one. */
    Planner planner();

    /** A folder of plugin jars loaded besides the built-in plugins, those the allow-list names only. */
    Optional<Path> pluginsDir();

    /**
     * The plugin jars of the plugins folder that may load, each {@code NAME.jar:SHA256}; a jar not
     * named, or with another digest, is refused (the log and {@code /q/health/ready} say why).
     */
    Optional<List<String>> pluginsAllowed();

    /** A file of allowed plugin jars: {@code NAME.jar:SHA256} or {@code sha256sum} lines, one a jar. */
    Optional<Path> pluginsAllowedFile();

    /**
     * Longest one plugin call (one step of a chain, or of a candidate the planner tries) may run;
     * past it the step is cancelled, then left behind, and fails. Default: half the job timeout.
     */
    Optional<Duration> stepTimeLimit();

    /** A step time limit per profile id, over {@link #stepTimeLimit()}. */
    Map<String, Duration> stepTimeLimits();

    /** How long a cancelled step may take to stop before it is left behind on its thread. */
    @WithDefault("10s")
    Duration stepCancelGrace();

    /** A folder of extra hardware profiles (YAML or JSON). */
    Optional<Path> profilesDir();

    /** Least time between two progress events of one model (a new stage is always published). */
    @WithDefault("2s")
    Duration progressInterval();

    /** Longest a model may take; past it, its work is cancelled and a failure published. */
    @WithDefault("30m")
    Duration jobTimeout();

    /** How long a stopping service lets running models finish before it abandons them to the next start. */
    @WithDefault("30s")
    Duration shutdownGrace();

    /**
     * Stop by itself, as on SIGTERM (exit code 0), once it has joined the group, no model is in
     * flight, no record has arrived for this long (a record sent to a retry topic counts as work for
     * the longest retry delay) and the group has committed every record of the partitions assigned
     * here: for one Job per waiting model (a KEDA ScaledJob). Absent: runs until stopped.
     */
    Optional<Duration> exitWhenIdle();

    /** Largest calibration or evaluation data file (.npz) fetched, in bytes. */
    @WithDefault("1073741824")
    long maxDataBytes();

    Benchmark benchmark();

    /** What events may name, and how their files are checked. */
    Inputs inputs();

    /** How faults are met: retries, redeliveries, crash counting, bounded failure events. */
    Faults faults();

    /**
     * Most bytes one job may hold in its work folder (downloads, outputs, temporary files); past
     * it the job ends in a failure event.
     */
    @WithDefault("8589934592")
    long workQuotaBytes();

    /** The CloudEvents source of every event this service publishes. */
    @WithDefault("/modelpress/compressor")
    String eventSource();

    interface Inputs {
        /**
         * Where events may point: entries {@code bucket} or {@code bucket/prefix}. An artifact or
         * data URI outside every entry is refused. Required outside the dev and test profiles.
         */
        List<String> allowed();

        /** Whether an event must carry the model's sha256 (checked before the model is parsed). */
        @WithDefault("true")
        boolean requireSha256();
    }

    interface Faults {
        /** Most bytes of the incoming record's value a failure event carries (its digest and size always). */
        @WithDefault("4096")
        int originalValueBytes();

        /** Times a record may end the service (out of memory, a crash) before it is refused instead of run. */
        @WithDefault("2")
        int maxCrashes();

        /**
         * Times a record whose job failed for a transient reason is sent again through the retry
         * topics before its failure is published; must match the retry topics configured.
         */
        @WithDefault("3")
        int redeliveries();

        /** The retry topics, each name ending in its delay in milliseconds ({@code _60000}). */
        List<String> retryTopics();

        /** Backoff of one S3 call or event publication inside a job. */
        Backoff backoff();

        interface Backoff {
            @WithDefault("20")
            int maxRetries();

            @WithDefault("500ms")
            Duration delay();

            @WithDefault("10s")
            Duration maxDelay();

            /** Longest a job waits for one call; a longer outage goes to the retry topic. */
            @WithDefault("60s")
            Duration maxDuration();
        }
    }

    interface Planner {
        /**
         * How long the search for one profile may take; when it runs out, the best candidate
         * measured so far is kept and the candidates not tried are reported as such.
         */
        @WithDefault("10m")
        Duration timeLimit();
    }

    interface Topics {
        String modelRegistered();

        String compressionResults();

        String benchmarks();

        String progress();

        String failures();

        /** Where records go whose outcome could not be published even after the retry topics. */
        String deadLetters();

        /** Create the topics at start when missing (Kafka Admin), with the partitions and retention below. */
        @WithDefault("true")
        boolean create();

        /** Partitions of a created topic: the most instances that work at once. */
        @WithDefault("6")
        int partitions();

        /** Replicas of a created topic; -1 takes the broker's default. */
        @WithDefault("-1")
        int replicationFactor();

        /** Retention of a created topic; the broker's default when absent. */
        Optional<Duration> retention();
    }

    /**
     * Consumer-group membership; application.properties maps these onto the input channel, so each can
     * be set as an environment variable ({@code MODELPRESS_KAFKA_SESSION_TIMEOUT_MS}, ...).
     */
    interface Kafka {
        /** Without a heartbeat for this long, a member is dropped and its partitions move (at least 6000). */
        @WithDefault("8000")
        int sessionTimeoutMs();

        /** Heartbeats to the group; a dropped member is noticed by the others at their next heartbeat. */
        @WithDefault("1000")
        int heartbeatIntervalMs();

        /**
         * How every Kafka client of the service connects: {@code PLAINTEXT}, {@code SSL},
         * {@code SASL_PLAINTEXT} or {@code SASL_SSL} (KafkaSecurity turns these settings into client
         * settings). Absent: the {@code kafka.*} client settings as given (plaintext unless they say).
         */
        Optional<String> securityProtocol();

        Sasl sasl();

        /**
         * The CA certificates a TLS connection to the brokers trusts, a PEM file (or PKCS12 / JKS by its
         * ending {@code .p12}, {@code .pfx}, {@code .jks}); absent: the JDK's own CAs.
         */
        Optional<Path> truststore();

        /** The password of a PKCS12 or JKS trust store (a PEM file has none). */
        Optional<String> truststorePassword();

        /** The trust store's type when its ending does not say: {@code PEM}, {@code PKCS12} or {@code JKS}. */
        Optional<String> truststoreType();

        /** The SASL login, used with {@code SASL_SSL} and {@code SASL_PLAINTEXT}. */
        interface Sasl {
            /** {@code SCRAM-SHA-512}, {@code SCRAM-SHA-256} or {@code PLAIN}. */
            @WithDefault("SCRAM-SHA-512")
            String mechanism();

            Optional<String> username();

            /** From a secret; never logged. */
            Optional<String> password();
        }
    }

    /** Timing of original and compressed side by side in ONNX Runtime, for the benchmarks topic. */
    interface Benchmark {
        @WithDefault("true")
        boolean enabled();

        /** Rounds before measuring, not counted. */
        @WithDefault("10")
        int warmup();

        /**
         * Measured rounds at least (one run of each model per round); more, up to ten times as many, until the
         * medians are stable.
         */
        @WithDefault("50")
        int iterations();

        /**
         * Whether each model's session memory is measured too, alone in a child JVM (two short-lived JVMs per
         * result: a cost small models notice).
         */
        @WithDefault("true")
        boolean memory();

        /** Intra-op threads; 0 is ONNX Runtime's default (one per core). */
        @WithDefault("0")
        int threads();
    }

    interface S3 {
        /** e.g. {@code http://minio:9000}. */
        String endpoint();

        String accessKey();

        String secretKey();

        @WithDefault("us-east-1")
        String region();

        /** Connect, read and write timeout of one S3 call. */
        @WithDefault("60s")
        Duration timeout();

        /**
         * A PEM file of CA certificates trusted for an {@code https} endpoint besides (or, with
         * {@link #trustJdkCas()} false, instead of) the JDK's own; for a server with a private CA.
         */
        Optional<Path> caFile();

        /** Whether the JDK's CAs are trusted too when {@link #caFile()} is given. */
        @WithDefault("true")
        boolean trustJdkCas();
    }
}

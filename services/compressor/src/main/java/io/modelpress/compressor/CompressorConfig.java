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

    /** A folder of plugin jars loaded besides the built-in plugins. */
    Optional<Path> pluginsDir();

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

    /** Largest calibration or evaluation data file (.npz) fetched, in bytes. */
    @WithDefault("1073741824")
    long maxDataBytes();

    Benchmark benchmark();

    /** The CloudEvents source of every event this service publishes. */
    @WithDefault("/modelpress/compressor")
    String eventSource();

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
    }

    /** Timing of original and compressed side by side in ONNX Runtime, for the benchmarks topic. */
    interface Benchmark {
        @WithDefault("true")
        boolean enabled();

        /** Runs before measuring, not counted. */
        @WithDefault("10")
        int warmup();

        /** Measured runs per model. */
        @WithDefault("50")
        int iterations();

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
    }
}

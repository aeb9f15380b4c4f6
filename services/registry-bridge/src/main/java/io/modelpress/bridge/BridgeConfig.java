package io.modelpress.bridge;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** The bridge's settings ({@code modelpress.bridge.*}; README.md lists them with their variables). */
@ConfigMapping(prefix = "modelpress.bridge")
public interface BridgeConfig {

    /** Journal, status and scratch files. */
    Path dataDir();

    /** modelpress's bucket. */
    @WithDefault("models")
    String bucket();

    @WithDefault("registry")
    String copyPrefix();

    @WithDefault("2147483648")
    long maxModelBytes();

    Optional<List<String>> defaultProfiles();

    @WithDefault("modelpress.model-registered")
    String topic();

    @WithDefault("/modelpress/registry-bridge")
    String eventSource();

    @WithDefault("30s")
    Duration publishTimeout();

    @WithDefault("false")
    boolean registerCompressed();

    @WithDefault("20")
    int maxAttempts();

    @WithDefault("2s")
    Duration pendingPoll();

    @WithDefault("30m")
    Duration pendingTimeout();

    Mlflow mlflow();

    Webhook webhook();

    Upload upload();

    S3 s3();

    interface Mlflow {
        /** e.g. http://mlflow:5000; without it webhooks are refused. */
        Optional<String> url();

        Optional<String> token();

        @WithDefault("30s")
        Duration timeout();
    }

    interface Webhook {
        Optional<String> secret();

        @WithDefault("5m")
        Duration tolerance();

        Optional<String> triggerTag();

        Optional<String> triggerAlias();
    }

    interface Upload {
        /** Largest upload (all files together) accepted by POST /models. */
        @WithDefault("1073741824")
        long maxBytes();
    }

    interface S3 {
        String endpoint();

        String accessKey();

        String secretKey();

        @WithDefault("us-east-1")
        String region();

        /** A PEM file of CA certificates trusted for an https endpoint (MODELPRESS_S3_CA_FILE). */
        Optional<Path> caFile();

        /** Whether the JDK's CAs are trusted too when a CA file is given (MODELPRESS_S3_TRUST_JDK_CAS). */
        @WithDefault("true")
        boolean trustJdkCas();
    }
}

package io.modelpress.bridge.registry;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What the bridge is told.
 *
 * @param dataDir where the journal of accepted deliveries and the status of every model live
 * @param bucket modelpress's bucket: models that live elsewhere are copied into it
 * @param copyPrefix key prefix of copied models: {@code <prefix>/<source>/<name>/<version>/}
 * @param maxModelBytes largest model directory (all its files) the bridge copies and registers
 * @param defaultProfiles profiles asked for when a model names none; empty leaves the choice to the compressor
 * @param webhookSecret the MLflow webhook's secret; when set, unsigned deliveries are refused
 * @param timestampTolerance how old (or how far ahead) a delivery's timestamp may be
 * @param triggerTag {@code key} or {@code key=value}: a {@code model_version_tag.set} with it starts a compression
 * @param triggerAlias an alias whose {@code model_version_alias.created} starts a compression
 * @param pendingPoll how often a version still {@code PENDING_REGISTRATION} is asked again
 * @param pendingTimeout how long a version may stay pending before its delivery fails
 * @param maxAttempts attempts of a delivery whose servers keep failing before it is given up
 * @param registerCompressed whether each result is registered as a version of {@code <name>-<profile>}
 * @param eventSource the CloudEvents source of published events
 * @param topic the model-registered topic
 */
public record BridgeSettings(Path dataDir, String bucket, String copyPrefix, long maxModelBytes,
        List<String> defaultProfiles, Optional<String> webhookSecret, Duration timestampTolerance,
        Optional<String> triggerTag, Optional<String> triggerAlias, Duration pendingPoll, Duration pendingTimeout,
        int maxAttempts, boolean registerCompressed, String eventSource, String topic) {

    public BridgeSettings {
        requireNonNull(dataDir, "dataDir is null");
        requireNonNull(bucket, "bucket is null");
        requireNonNull(copyPrefix, "copyPrefix is null");
        defaultProfiles = List.copyOf(requireNonNull(defaultProfiles, "defaultProfiles is null"));
        webhookSecret = requireNonNull(webhookSecret, "webhookSecret is null").filter(s -> !s.isBlank());
        requireNonNull(timestampTolerance, "timestampTolerance is null");
        triggerTag = requireNonNull(triggerTag, "triggerTag is null").filter(s -> !s.isBlank());
        triggerAlias = requireNonNull(triggerAlias, "triggerAlias is null").filter(s -> !s.isBlank());
        requireNonNull(pendingPoll, "pendingPoll is null");
        requireNonNull(pendingTimeout, "pendingTimeout is null");
        requireNonNull(eventSource, "eventSource is null");
        requireNonNull(topic, "topic is null");
        if (maxModelBytes <= 0) {
            throw new IllegalArgumentException("maxModelBytes must be positive, not " + maxModelBytes);
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1, not " + maxAttempts);
        }
    }
}

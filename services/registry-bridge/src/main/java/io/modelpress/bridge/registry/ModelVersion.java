package io.modelpress.bridge.registry;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * A version as MLflow's {@code model-versions/get} describes it (the fields the bridge uses).
 *
 * @param status {@code PENDING_REGISTRATION}, {@code FAILED_REGISTRATION} or {@code READY}
 * @param tags the version's tags, key to value
 */
public record ModelVersion(String name, String version, String status, String statusMessage, String source,
        String runId, Map<String, String> tags) {

    public static final String PENDING = "PENDING_REGISTRATION";
    public static final String FAILED = "FAILED_REGISTRATION";
    public static final String READY = "READY";

    public ModelVersion {
        requireNonNull(name, "name is null");
        requireNonNull(version, "version is null");
        status = status == null ? READY : status;
        tags = Map.copyOf(requireNonNull(tags, "tags is null"));
    }
}

package io.modelpress.bridge.registry;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the bridge knows of one model version: {@code state} is {@code accepted} (queued), {@code published}
 * (model-registered sent; results come per profile) or {@code failed} (with {@code reason}).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModelStatus(String modelId, String version, String source, String state, String reason,
        String artifactUri, Instant updatedAt, Map<String, ProfileStatus> profiles) {

    public static final String ACCEPTED = "accepted";
    public static final String PUBLISHED = "published";
    public static final String FAILED = "failed";

    public ModelStatus {
        requireNonNull(modelId, "modelId is null");
        requireNonNull(version, "version is null");
        requireNonNull(state, "state is null");
        profiles = profiles == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(profiles));
    }

    /**
     * One profile: {@code status} is {@code pending}, {@code complete} or {@code failed}.
     *
     * @param drop the accuracy or fidelity lost, in percentage points
     * @param judgedBy what the drop was measured on
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ProfileStatus(String status, String artifactUri, String reportUri, Double sizeRatio, Double drop,
            String judgedBy, Boolean metBudget, String reason) {

        public static final String PENDING = "pending";
        public static final String COMPLETE = "complete";
        public static final String FAILED = "failed";

        static ProfileStatus pending() {
            return new ProfileStatus(PENDING, null, null, null, null, null, null, null);
        }
    }

    /** Whether every requested profile has ended, or the whole version failed: pollers may stop. */
    @com.fasterxml.jackson.annotation.JsonProperty("finished")
    public boolean finished() {
        return FAILED.equals(state) || PUBLISHED.equals(state) && !profiles.isEmpty()
                && profiles.values().stream().noneMatch(p -> ProfileStatus.PENDING.equals(p.status()));
    }
}

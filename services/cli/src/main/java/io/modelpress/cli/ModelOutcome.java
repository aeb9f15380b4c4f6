package io.modelpress.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What came back for one registered model version: per requested profile its result and benchmark
 * events, or its failure. Done when every profile has an answer, or the whole model failed.
 */
final class ModelOutcome {

    /** One profile's answer so far. */
    record ProfileOutcome(String profile, Optional<JsonNode> result, Optional<JsonNode> benchmark,
            Optional<JsonNode> failure) {

        boolean answered() {
            return failure.isPresent() || result.isPresent() && benchmark.isPresent();
        }

        /** The result's status ({@code complete}, {@code unverified}, {@code kept-original}), when one came and nothing failed. */
        Optional<String> status() {
            return failure.isPresent() ? Optional.empty() : result.map(data -> data.path("status").asText());
        }
    }

    private final String modelId;
    private final String version;
    private final Map<String, ProfileOutcome> profiles = new LinkedHashMap<>();
    private final List<JsonNode> modelFailures = new ArrayList<>();

    ModelOutcome(String modelId, String version, List<String> profiles) {
        if (profiles.isEmpty()) {
            throw new IllegalArgumentException("name the profiles whose results to wait for");
        }
        this.modelId = modelId;
        this.version = version;
        profiles.forEach(id -> this.profiles.put(id, new ProfileOutcome(id, Optional.empty(), Optional.empty(),
                Optional.empty())));
    }

    /** Takes an event in if it is about this model version; returns whether it was. */
    boolean accept(EventFeed.OutputEvent event) {
        JsonNode data = event.data();
        if (!modelId.equals(event.key()) || !version.equals(data.path("version").asText(version))) {
            return false;
        }
        String profile = data.path("profile").asText("");
        ProfileOutcome known = profiles.get(profile);
        switch (event.topic()) {
            case EventFeed.FAILURES -> {
                if (known == null) {
                    modelFailures.add(data);
                } else {
                    profiles.put(profile, new ProfileOutcome(profile, known.result(), known.benchmark(), Optional.of(data)));
                }
            }
            case EventFeed.RESULTS -> {
                if (known != null) {
                    profiles.put(profile, new ProfileOutcome(profile, Optional.of(data), known.benchmark(), known.failure()));
                }
            }
            case EventFeed.BENCHMARKS -> {
                if (known != null) {
                    profiles.put(profile, new ProfileOutcome(profile, known.result(), Optional.of(data), known.failure()));
                }
            }
            default -> {
                // progress: printed, not counted
            }
        }
        return true;
    }

    boolean done() {
        return !modelFailures.isEmpty() || profiles.values().stream().allMatch(ProfileOutcome::answered);
    }

    /**
     * The service answered every profile with a published result and nothing failed. Any status counts: an
     * {@code unverified} result is published (only generated inputs judged it), and {@code kept-original} is
     * the planner's honest answer that nothing met the budget, not a failure of the service. The summary says
     * which is which ({@link #tally()}).
     */
    boolean succeeded() {
        return modelFailures.isEmpty() && profiles.values().stream().allMatch(profile -> profile.answered()
                && profile.status().isPresent());
    }

    /** One line: how many profiles ended in each way, e.g. {@code 1 complete, 1 kept-original, 1 failed}. */
    String tally() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String status : List.of("complete", "unverified", "kept-original", "failed", "no answer")) {
            counts.put(status, 0);
        }
        for (ProfileOutcome profile : profiles.values()) {
            String ending = profile.failure().isPresent() ? "failed" : profile.result().isEmpty() ? "no answer"
                    : profile.status().orElseThrow();
            counts.merge(ending, 1, Integer::sum);
        }
        List<String> parts = new ArrayList<>();
        counts.forEach((status, count) -> {
            if (count > 0) {
                parts.add(count + " " + status);
            }
        });
        if (!modelFailures.isEmpty()) {
            parts.add("the model failed as a whole");
        }
        return String.join(", ", parts);
    }

    List<ProfileOutcome> profiles() {
        return List.copyOf(profiles.values());
    }

    List<JsonNode> modelFailures() {
        return List.copyOf(modelFailures);
    }

    String modelId() {
        return modelId;
    }

    String version() {
        return version;
    }
}

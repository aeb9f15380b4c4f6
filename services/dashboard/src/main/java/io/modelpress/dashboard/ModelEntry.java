package io.modelpress.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelpress.dashboard.DashboardView.FailureView;
import io.modelpress.dashboard.DashboardView.ModelView;
import io.modelpress.dashboard.DashboardView.ProfileView;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** One model version as its events so far describe it. */
final class ModelEntry {

    private final String modelId;
    private final String version;
    private final Map<String, ProfileEntry> profiles = new TreeMap<>();
    private final Map<String, String> labels = new TreeMap<>();
    private final List<FailureView> failures = new ArrayList<>();
    private Instant firstSeen;
    private Instant lastSeen;
    private Instant firstProgress;
    private Instant progressAt;
    private Integer percent;
    private String stage;
    private String message;

    ModelEntry(String modelId, String version) {
        this.modelId = modelId;
        this.version = version;
    }

    void apply(Event event) {
        firstSeen = firstSeen == null || event.time().isBefore(firstSeen) ? event.time() : firstSeen;
        lastSeen = ProfileEntry.latest(lastSeen, event.time());
        String profile = event.profile();
        JsonNode data = event.data();
        switch (event.kind()) {
            case RESULT -> {
                profile(profile).result(event);
                data.path("labels").fields().forEachRemaining(label -> labels.put(label.getKey(), label.getValue().asText()));
            }
            case BENCHMARK -> profile(profile).benchmark(event);
            case PROGRESS -> progress(event, profile);
            case FAILURE -> failure(event, profile);
        }
    }

    private void progress(Event event, String profile) {
        JsonNode data = event.data();
        firstProgress = firstProgress == null || event.time().isBefore(firstProgress) ? event.time() : firstProgress;
        if (progressAt == null || !event.time().isBefore(progressAt)) {
            progressAt = event.time();
            percent = data.path("percent").isNumber() ? data.path("percent").asInt()
                    : (int) Math.round(100 * data.path("fraction").asDouble(0));
            stage = ProfileEntry.text(data, "stage");
            message = ProfileEntry.text(data, "message");
        }
        if (profile != null) {
            profile(profile).progress(event);
        }
    }

    private void failure(Event event, String profile) {
        JsonNode data = event.data();
        FailureView failure = new FailureView(profile, data.path("stage").asText("?"), data.path("reason").asText(),
                data.path("retryable").asBoolean(false), event.time());
        if (profile != null) {
            profile(profile).failure(failure);
        } else if (!failures.contains(failure)) {
            failures.add(failure);
        }
    }

    private ProfileEntry profile(String profile) {
        return profiles.computeIfAbsent(profile, ProfileEntry::new);
    }

    Instant firstSeen() {
        return firstSeen;
    }

    Map<String, String> labels() {
        return labels;
    }

    Iterable<ProfileEntry> profiles() {
        return profiles.values();
    }

    /** From the service starting on the model (its first progress event) to a result; the engine's time without progress. */
    Double secondsToResult(ProfileEntry profile) {
        if (firstProgress != null && profile.resultAt() != null && !profile.resultAt().isBefore(firstProgress)) {
            return (profile.resultAt().toEpochMilli() - firstProgress.toEpochMilli()) / 1000.0;
        }
        Long millis = profile.processingMillis();
        return millis == null ? null : millis / 1000.0;
    }

    ModelView view() {
        List<ProfileView> views = profiles.values().stream().map(ProfileEntry::view).toList();
        return new ModelView(modelId, version, firstSeen, lastSeen, Map.copyOf(labels), status(views), percent, stage,
                message, List.copyOf(failures), views);
    }

    private String status(List<ProfileView> views) {
        Instant lastFailure = failures.stream().map(FailureView::at).max(Instant::compareTo).orElse(null);
        boolean newerWork = lastFailure != null && progressAt != null && progressAt.isAfter(lastFailure);
        if ((lastFailure != null && !newerWork) || views.stream().anyMatch(view -> view.status().equals("failed"))) {
            return "failed";
        }
        if (views.isEmpty() || views.stream().anyMatch(view -> view.status().equals("running"))) {
            return "running";
        }
        return "complete";
    }
}

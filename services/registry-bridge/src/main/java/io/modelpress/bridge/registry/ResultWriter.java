package io.modelpress.bridge.registry;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * Writes what the compressor published back: into the status of the model version and, for MLflow
 * versions, as tags on the source version (and optionally as a version of {@code <name>-<profile>}).
 * Only tags whose value differs are set, so a replayed result changes nothing.
 */
public final class ResultWriter {

    private static final Logger LOG = Logger.getLogger(ResultWriter.class.getName());
    private static final int MAX_TAG_VALUE = 4000;

    private final Optional<MlflowClient> mlflow;
    private final StatusStore status;
    private final boolean registerCompressed;

    public ResultWriter(Optional<MlflowClient> mlflow, StatusStore status, boolean registerCompressed) {
        this.mlflow = requireNonNull(mlflow, "mlflow is null");
        this.status = requireNonNull(status, "status is null");
        this.registerCompressed = registerCompressed;
    }

    /** A compression-result event's data. */
    public void onResult(JsonNode data) {
        String modelId = required(data, "modelId");
        String version = required(data, "version");
        String profile = required(data, "profile");
        ModelStatus.ProfileStatus result = new ModelStatus.ProfileStatus(ModelStatus.ProfileStatus.COMPLETE,
                Json.text(data.path("artifact"), "uri").orElse(null),
                Json.text(data.path("artifact"), "reportUri").orElse(null),
                number(data.path("sizes").path("sizeRatio")), drop(data), judgedBy(data),
                data.path("choice").has("metBudget") ? data.path("choice").path("metBudget").asBoolean() : null, null);
        status.profile(modelId, version, profile, result);
        if (fromMlflow(data.path("labels"))) {
            // the status last: a reader who sees it finds the other tags already set
            Map<String, String> tags = new LinkedHashMap<>();
            put(tags, Tags.profile(profile, Tags.ARTIFACT_FIELD), result.artifactUri());
            put(tags, Tags.profile(profile, Tags.REPORT_FIELD), result.reportUri());
            put(tags, Tags.profile(profile, Tags.SIZE_RATIO_FIELD), format(result.sizeRatio()));
            put(tags, Tags.profile(profile, Tags.DROP_FIELD), format(result.drop()));
            put(tags, Tags.profile(profile, Tags.JUDGED_BY_FIELD), result.judgedBy());
            put(tags, Tags.profile(profile, Tags.MET_BUDGET_FIELD), result.metBudget() == null ? null
                    : result.metBudget().toString());
            tags.put(Tags.profile(profile, Tags.STATUS_FIELD), result.status());
            Map<String, String> current = writeTags(modelId, version, tags);
            if (registerCompressed && result.artifactUri() != null
                    && !current.containsKey(Tags.profile(profile, Tags.REGISTERED_FIELD))) {
                register(modelId, version, profile, result.artifactUri());
            }
        }
    }

    /** A failure event's data: the whole version failed, or one profile when it names one. */
    public void onFailure(JsonNode data) {
        Optional<String> modelId = Json.text(data, "modelId");
        Optional<String> version = Json.text(data, "version");
        if (modelId.isEmpty() || version.isEmpty()) {
            return; // an unreadable event: nothing of ours to update
        }
        String reason = Json.text(data, "stage").map(s -> s + ": ").orElse("") + Json.text(data, "reason").orElse("");
        Optional<String> profile = Json.text(data, "profile");
        if (profile.isPresent()) {
            status.profile(modelId.get(), version.get(), profile.get(), new ModelStatus.ProfileStatus(
                    ModelStatus.ProfileStatus.FAILED, null, null, null, null, null, null, reason));
        } else {
            status.failed(modelId.get(), version.get(), null, reason);
        }
        if (fromMlflow(originalLabels(data))) {
            Map<String, String> tags = new LinkedHashMap<>();
            if (profile.isPresent()) {
                tags.put(Tags.profile(profile.get(), Tags.REASON_FIELD), reason);
                tags.put(Tags.profile(profile.get(), Tags.STATUS_FIELD), ModelStatus.ProfileStatus.FAILED);
            } else {
                tags.put(Tags.REASON, reason);
                tags.put(Tags.STATUS, ModelStatus.FAILED);
            }
            writeTags(modelId.get(), version.get(), tags);
        }
    }

    /** Sets the tags whose value differs from the version's; returns the version's tags as they were. */
    Map<String, String> writeTags(String name, String version, Map<String, String> tags) {
        MlflowClient client = mlflow.orElseThrow(() -> new RegistryException("a result for MLflow version " + name + "/"
                + version + " arrived, but no MLflow URL is configured", false));
        Map<String, String> current = client.getModelVersion(name, version).tags();
        tags.forEach((key, value) -> {
            String bounded = RegisteredEvents.truncate(value, MAX_TAG_VALUE);
            if (!bounded.equals(current.get(key))) {
                client.setTag(name, version, key, bounded);
            }
        });
        return current;
    }

    private void register(String name, String version, String profile, String artifactUri) {
        MlflowClient client = mlflow.orElseThrow();
        String target = name + "-" + profile;
        String source = artifactUri.substring(0, artifactUri.lastIndexOf('/'));
        client.ensureRegisteredModel(target, "Compressed by modelpress for the " + profile + " profile from " + name);
        String created = client.createModelVersion(target, source, "Compressed by modelpress for " + profile
                + " from models:/" + name + "/" + version, Map.of("modelpress.source", "models:/" + name + "/" + version,
                        "modelpress.profile", profile, "modelpress.artifact_uri", artifactUri));
        client.setTag(name, version, Tags.profile(profile, Tags.REGISTERED_FIELD), target + "/" + created);
        LOG.info(() -> "registered " + target + "/" + created + " from " + name + "/" + version);
    }

    /**
     * The drop the choice was judged on, in percentage points as every drop in the events: the chosen
     * candidate's, else lost top-1, else the worst output's lost mean cosine (1 - cosine, as points).
     */
    static Double drop(JsonNode data) {
        for (JsonNode candidate : data.path("choice").path("candidates")) {
            if (candidate.path("chosen").asBoolean(false) && candidate.has("drop")) {
                return candidate.path("drop").asDouble();
            }
        }
        JsonNode figures = data.path("accuracy").path("figures");
        if (data.path("accuracy").path("measured").asBoolean(false) && figures.has("top1Drop")) {
            return figures.path("top1Drop").asDouble();
        }
        double worst = -1;
        for (JsonNode output : data.path("fidelity").path("outputs")) {
            worst = Math.max(worst, 1 - output.path("meanCosine").asDouble(1));
        }
        return worst < 0 ? null : Math.max(0, worst) * 100;
    }

    static String judgedBy(JsonNode data) {
        JsonNode accuracy = data.path("accuracy");
        if (accuracy.path("measured").asBoolean(false)) {
            return "labelled data: top-1 accuracy on " + accuracy.path("figures").path("examples").asLong()
                    + " examples" + Json.text(accuracy, "evaluationDataUri").map(u -> " (" + u + ")").orElse("");
        }
        return Json.text(data.path("fidelity"), "data").map(d -> "fidelity on " + d).orElse(null);
    }

    private static JsonNode originalLabels(JsonNode failure) {
        try {
            JsonNode value = Json.mapper().readTree(failure.path("original").path("value").asText("{}"));
            return value.has("data") && value.has("specversion") ? value.path("data").path("labels") : value.path("labels");
        } catch (java.io.IOException | RuntimeException e) {
            return Json.object();
        }
    }

    private static boolean fromMlflow(JsonNode labels) {
        return Delivery.MLFLOW.equals(labels.path(Tags.REGISTRY_LABEL).asText());
    }

    private static String required(JsonNode data, String field) {
        return Json.text(data, field).orElseThrow(() -> new RegistryException("the event has no " + field, false));
    }

    private static Double number(JsonNode node) {
        return node.isNumber() ? node.asDouble() : null;
    }

    private static String format(Double value) {
        return value == null ? null : String.format(java.util.Locale.ROOT, "%.4f", value);
    }

    private static void put(Map<String, String> tags, String key, String value) {
        if (value != null) {
            tags.put(key, value);
        }
    }
}

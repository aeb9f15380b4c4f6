package io.modelpress.bridge.registry;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelpress.common.EventSchemas;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** Builds model-registered data from a registry's version and tags, and checks it against the schema. */
public final class RegisteredEvents {

    private static final Pattern PROFILE = Pattern.compile("^[a-z][a-z0-9]*(-[a-z0-9]+)*$");
    private static final Pattern MODEL_ID = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._/@:-]*$");
    private static final int MAX_LABELS = 64;

    private RegisteredEvents() {
    }

    /**
     * The event for an MLflow version: name and version as model id and version, the profiles and
     * budgets from {@link Tags} (or the defaults), every other tag as a label.
     */
    public static ObjectNode fromMlflow(ModelVersion version, ModelDirectory.Copied model, List<String> defaultProfiles) {
        if (!MODEL_ID.matcher(version.name()).matches() || version.name().length() > 200) {
            throw new RegistryException("the registered model name '" + version.name() + "' cannot be a modelpress model"
                    + " id: letters, digits and . _ / @ : - only, at most 200, starting with a letter or digit", false);
        }
        ObjectNode data = Json.object();
        data.put("modelId", version.name());
        data.put("version", version.version());
        data.put("artifactUri", model.artifactUri());
        data.put("format", "onnx");
        data.put("sizeBytes", model.modelBytes());
        data.put("sha256", model.sha256());
        Map<String, String> tags = version.tags();
        List<String> profiles = tags.containsKey(Tags.PROFILES) ? split(tags.get(Tags.PROFILES), "[,\\s]+")
                : defaultProfiles;
        for (String profile : profiles) {
            if (!PROFILE.matcher(profile).matches()) {
                throw new RegistryException("tag " + Tags.PROFILES + ": '" + profile + "' is not a profile id"
                        + " (lowercase words joined by dashes, e.g. x86-vnni)", false);
            }
        }
        if (!profiles.isEmpty()) {
            ArrayNode list = data.putArray("profiles");
            profiles.stream().distinct().forEach(list::add);
        }
        ObjectNode budgets = Json.object();
        number(tags, Tags.MAX_ACCURACY_DROP, budgets, "maxAccuracyDrop", false);
        number(tags, Tags.MAX_SIZE_BYTES, budgets, "sizeBytes", true);
        number(tags, Tags.MAX_MEMORY_BYTES, budgets, "memoryBytes", true);
        number(tags, Tags.MAX_LATENCY_MS, budgets, "latencyMillis", false);
        if (!budgets.isEmpty()) {
            data.set("budgets", budgets);
        }
        if (tags.containsKey(Tags.CHAIN)) {
            ArrayNode chain = data.putArray("chain");
            split(tags.get(Tags.CHAIN), "\\s+").forEach(chain::add);
        }
        if (tags.containsKey(Tags.CALIBRATION)) {
            data.put("calibrationDataUri", tags.get(Tags.CALIBRATION).trim());
        }
        if (tags.containsKey(Tags.EVALUATION)) {
            data.put("evaluationDataUri", tags.get(Tags.EVALUATION).trim());
        }
        ObjectNode labels = data.putObject("labels");
        labels.put(Tags.REGISTRY_LABEL, Delivery.MLFLOW);
        tags.entrySet().stream()
                .filter(tag -> !tag.getKey().startsWith(Tags.PREFIX) && tag.getKey().length() <= 128)
                .sorted(Map.Entry.comparingByKey())
                .limit(MAX_LABELS - 1)
                .forEach(tag -> labels.put(tag.getKey(), truncate(tag.getValue(), 1024)));
        check(data, "tags of " + version.name() + "/" + version.version());
        return data;
    }

    /** Throws (not retryable) naming every problem when the data breaks model-registered.schema.json. */
    public static void check(ObjectNode data, String origin) {
        List<String> problems = EventSchemas.validate(EventSchemas.MODEL_REGISTERED, data);
        if (!problems.isEmpty()) {
            throw new RegistryException("the event built from the " + origin + " does not match model-registered.schema.json: "
                    + String.join("; ", problems), false);
        }
    }

    private static void number(Map<String, String> tags, String tag, ObjectNode budgets, String field, boolean integer) {
        String value = tags.get(tag);
        if (value == null) {
            return;
        }
        try {
            if (integer) {
                budgets.put(field, Long.parseLong(value.trim()));
            } else {
                budgets.put(field, Double.parseDouble(value.trim()));
            }
        } catch (NumberFormatException e) {
            throw new RegistryException("tag " + tag + ": '" + value + "' is not " + (integer ? "a whole number" : "a number"),
                    false);
        }
    }

    private static List<String> split(String value, String separator) {
        return Arrays.stream(value.trim().split(separator)).filter(s -> !s.isBlank()).toList();
    }

    static String truncate(String value, int max) {
        return value == null ? "" : value.length() <= max ? value : value.substring(0, max - 3) + "...";
    }
}

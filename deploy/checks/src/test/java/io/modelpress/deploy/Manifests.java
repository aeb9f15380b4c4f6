package io.modelpress.deploy;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;

/** The documents of one rendered overlay (or one YAML file), with look-ups by kind and name. */
record Manifests(String source, List<ObjectNode> documents) {

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    Manifests {
        requireNonNull(source, "source is null");
        documents = List.copyOf(documents);
    }

    static Manifests parse(String source, String yaml) throws IOException {
        List<ObjectNode> documents = new ArrayList<>();
        try (var parser = YAML.getFactory().createParser(yaml)) {
            for (JsonNode document : YAML.readValues(parser, JsonNode.class).readAll()) {
                if (document == null || document.isNull() || document.isMissingNode()) {
                    continue; // an empty document between two ---
                }
                if (!document.isObject()) {
                    throw new IllegalArgumentException(source + ": a document is not a mapping: " + document);
                }
                documents.add((ObjectNode) document);
            }
        }
        return new Manifests(source, documents);
    }

    List<ObjectNode> ofKind(String kind) {
        return documents.stream().filter(d -> kind.equals(d.path("kind").asText())).toList();
    }

    Optional<ObjectNode> find(String kind, String name) {
        return ofKind(kind).stream().filter(d -> name.equals(name(d))).findFirst();
    }

    ObjectNode get(String kind, String name) {
        return find(kind, name).orElseThrow(() -> new NoSuchElementException(source + " has no " + kind + " " + name));
    }

    static String name(JsonNode document) {
        return document.path("metadata").path("name").asText();
    }

    static String id(JsonNode document) {
        return document.path("kind").asText() + "/" + name(document);
    }

    /** The pod template of a Deployment, StatefulSet, Job or KEDA ScaledJob. */
    static JsonNode podSpec(JsonNode workload) {
        return switch (workload.path("kind").asText()) {
            case "ScaledJob" -> workload.path("spec").path("jobTargetRef").path("template").path("spec");
            default -> workload.path("spec").path("template").path("spec");
        };
    }

    /** The Deployments, StatefulSets and ScaledJobs that run modelpress images (not MinIO or a bucket Job). */
    List<ObjectNode> modelpressWorkloads() {
        List<ObjectNode> workloads = new ArrayList<>(ofKind("Deployment"));
        workloads.addAll(ofKind("StatefulSet"));
        workloads.addAll(ofKind("ScaledJob"));
        return workloads.stream().filter(w -> name(w).startsWith("modelpress-")).toList();
    }

    /** The modelpress workload of this name, whatever its kind. */
    JsonNode workload(String name) {
        return modelpressWorkloads().stream().filter(w -> name(w).equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(source() + " runs no " + name));
    }

    /**
     * The environment a container gets: its ConfigMaps' and Secrets' entries (envFrom), then its own
     * env entries; a value from a Secret this overlay does not hold is {@code null}, one set from a
     * field or key reference is the reference.
     */
    Map<String, String> environment(JsonNode container) {
        Map<String, String> environment = new HashMap<>();
        for (JsonNode from : container.path("envFrom")) {
            if (from.has("configMapRef")) {
                data(get("ConfigMap", from.path("configMapRef").path("name").asText())).forEach(environment::put);
            } else if (from.has("secretRef")) {
                find("Secret", from.path("secretRef").path("name").asText())
                        .ifPresentOrElse(secret -> data(secret).forEach(environment::put),
                                () -> ExternalSecrets.keys(from.path("secretRef").path("name").asText())
                                        .forEach(key -> environment.put(key, null)));
            }
        }
        for (JsonNode env : container.path("env")) {
            environment.put(env.path("name").asText(),
                    env.has("value") ? env.path("value").asText() : env.path("valueFrom").toString());
        }
        return environment;
    }

    /** A ConfigMap's data, or a Secret's stringData and (base64) data decoded. */
    static Map<String, String> data(JsonNode document) {
        Map<String, String> data = new HashMap<>();
        document.path("data").fields().forEachRemaining(e -> data.put(e.getKey(),
                "Secret".equals(document.path("kind").asText())
                        ? new String(java.util.Base64.getDecoder().decode(e.getValue().asText()),
                                java.nio.charset.StandardCharsets.UTF_8)
                        : e.getValue().asText()));
        document.path("stringData").fields().forEachRemaining(e -> data.put(e.getKey(), e.getValue().asText()));
        return data;
    }
}

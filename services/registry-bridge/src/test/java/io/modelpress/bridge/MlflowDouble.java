package io.modelpress.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.modelpress.bridge.registry.Json;
import io.modelpress.bridge.registry.WebhookSignature;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A stand-in for an MLflow 3.x tracking server, for tests only: the model-registry endpoints the bridge
 * calls, with the JSON shapes of MLflow's REST API reference (model_version objects, tags as key/value
 * lists, errors as error_code and message), the artifact proxy under /api/2.0/mlflow-artifacts/artifacts,
 * and webhook deliveries as MLflow sends them: a JSON body {entity, action, timestamp, data}, headers
 * X-MLflow-Delivery-Id, X-MLflow-Timestamp (Unix seconds) and X-MLflow-Signature, retried with the same
 * delivery id and timestamp when the receiver does not answer 2xx.
 */
final class MlflowDouble implements AutoCloseable {

    /** One model version as the registry holds it. */
    static final class Version {
        final String name;
        final String version;
        volatile String status = "READY";
        volatile String statusMessage = "";
        volatile String source;
        final Map<String, String> tags = Collections.synchronizedMap(new LinkedHashMap<>());
        volatile String description = "";

        Version(String name, String version, String source) {
            this.name = name;
            this.version = version;
            this.source = source;
        }
    }

    /** A set-tag call as received. */
    record TagCall(String name, String version, String key, String value) {
    }

    private final HttpServer server;
    private final Map<String, Version> versions = new ConcurrentHashMap<>();
    private final Map<String, String> downloadUris = new ConcurrentHashMap<>();
    private final Map<String, byte[]> artifacts = new ConcurrentHashMap<>();
    private final Map<String, Integer> nextVersion = new ConcurrentHashMap<>();
    final List<TagCall> tagCalls = Collections.synchronizedList(new ArrayList<>());
    final List<String> createdVersions = Collections.synchronizedList(new ArrayList<>());
    private final HttpClient http = HttpClient.newHttpClient();
    /** While set, the registry answers 503 TEMPORARILY_UNAVAILABLE, as a server restarting would. */
    volatile boolean unavailable;

    MlflowDouble() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/api/2.0/mlflow/", this::registry);
        server.createContext("/api/2.0/mlflow-artifacts/artifacts", this::artifacts);
        server.start();
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Registers a version whose files get-download-uri points at. */
    Version addVersion(String name, String version, String downloadUri, Map<String, String> tags) {
        Version created = new Version(name, version, downloadUri);
        created.tags.putAll(tags);
        versions.put(name + "/" + version, created);
        downloadUris.put(name + "/" + version, downloadUri);
        return created;
    }

    Version version(String name, String version) {
        return versions.get(name + "/" + version);
    }

    /** A file served by the artifact proxy at this path. */
    void addArtifact(String path, byte[] content) {
        artifacts.put(path, content);
    }

    List<TagCall> tagCalls(String name, String version) {
        synchronized (tagCalls) {
            return tagCalls.stream().filter(c -> c.name().equals(name) && c.version().equals(version)).toList();
        }
    }

    // --- webhooks ------------------------------------------------------------------------------

    /** A delivery as MLflow would send it, signed with {@code secret}. */
    record Delivery(String id, String timestamp, String signature, byte[] body) {
    }

    static Delivery delivery(String secret, String entity, String action, JsonNode data) {
        ObjectNode payload = Json.object();
        payload.put("entity", entity);
        payload.put("action", action);
        payload.put("timestamp", Instant.now().toString());
        payload.set("data", data);
        byte[] body = Json.write(payload).getBytes(StandardCharsets.UTF_8);
        String id = UUID.randomUUID().toString();
        String timestamp = String.valueOf(Instant.now().getEpochSecond());
        return new Delivery(id, timestamp, WebhookSignature.sign(secret, id, timestamp, body), body);
    }

    /** The data of model_version.created, as MLflow documents it. */
    static ObjectNode versionCreated(String name, String version, String source, Map<String, String> tags) {
        ObjectNode data = Json.object();
        data.put("name", name);
        data.put("version", version);
        data.put("source", source);
        data.put("run_id", "0123456789abcdef0123456789abcdef");
        ObjectNode tagObject = data.putObject("tags");
        tags.forEach(tagObject::put);
        data.put("description", "");
        return data;
    }

    /** Sends once; returns the status code and body. */
    HttpResponse<String> send(URI hook, Delivery delivery) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(hook).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(delivery.body()));
        if (delivery.id() != null) {
            request.header("X-MLflow-Delivery-Id", delivery.id());
        }
        if (delivery.timestamp() != null) {
            request.header("X-MLflow-Timestamp", delivery.timestamp());
        }
        if (delivery.signature() != null) {
            request.header("X-MLflow-Signature", delivery.signature());
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Sends and, like MLflow, retries a delivery that was not answered 2xx with the same id and timestamp. */
    List<Integer> sendWithRetries(URI hook, Delivery delivery, int attempts) throws IOException, InterruptedException {
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < attempts; i++) {
            int status = send(hook, delivery).statusCode();
            statuses.add(status);
            if (status / 100 == 2) {
                break;
            }
        }
        return statuses;
    }

    // --- the REST API --------------------------------------------------------------------------

    private void registry(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath().substring("/api/2.0/mlflow/".length());
            Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
            if (unavailable) {
                json(exchange, 503, Json.object().put("error_code", "TEMPORARILY_UNAVAILABLE")
                        .put("message", "the server is restarting"));
                return;
            }
            JsonNode body = "POST".equals(exchange.getRequestMethod())
                    ? Json.mapper().readTree(exchange.getRequestBody().readAllBytes()) : Json.object();
            switch (path) {
                case "model-versions/get" -> {
                    Version v = versions.get(query.get("name") + "/" + query.get("version"));
                    if (v == null) {
                        notFound(exchange, query);
                        return;
                    }
                    ObjectNode answer = Json.object();
                    answer.set("model_version", describe(v));
                    json(exchange, 200, answer);
                }
                case "model-versions/get-download-uri" -> {
                    String uri = downloadUris.get(query.get("name") + "/" + query.get("version"));
                    if (uri == null) {
                        notFound(exchange, query);
                        return;
                    }
                    json(exchange, 200, Json.object().put("artifact_uri", uri));
                }
                case "model-versions/set-tag" -> {
                    Version v = versions.get(body.path("name").asText() + "/" + body.path("version").asText());
                    if (v == null) {
                        notFound(exchange, Map.of("name", body.path("name").asText(), "version",
                                body.path("version").asText()));
                        return;
                    }
                    tagCalls.add(new TagCall(v.name, v.version, body.path("key").asText(), body.path("value").asText()));
                    v.tags.put(body.path("key").asText(), body.path("value").asText());
                    json(exchange, 200, Json.object());
                }
                case "registered-models/create" -> {
                    String name = body.path("name").asText();
                    if (nextVersion.putIfAbsent(name, 1) != null) {
                        json(exchange, 400, Json.object().put("error_code", "RESOURCE_ALREADY_EXISTS")
                                .put("message", "Registered Model (name=" + name + ") already exists."));
                        return;
                    }
                    ObjectNode answer = Json.object();
                    answer.putObject("registered_model").put("name", name)
                            .put("creation_timestamp", System.currentTimeMillis());
                    json(exchange, 200, answer);
                }
                case "model-versions/create" -> {
                    String name = body.path("name").asText();
                    Integer number = nextVersion.computeIfPresent(name, (k, n) -> n + 1);
                    if (number == null) {
                        json(exchange, 404, Json.object().put("error_code", "RESOURCE_DOES_NOT_EXIST")
                                .put("message", "Registered Model with name=" + name + " not found"));
                        return;
                    }
                    Version created = new Version(name, String.valueOf(number - 1), body.path("source").asText());
                    body.path("tags").forEach(t -> created.tags.put(t.path("key").asText(), t.path("value").asText()));
                    created.description = body.path("description").asText();
                    versions.put(name + "/" + created.version, created);
                    createdVersions.add(name + "/" + created.version);
                    ObjectNode answer = Json.object();
                    answer.set("model_version", describe(created));
                    json(exchange, 200, answer);
                }
                default -> json(exchange, 404, Json.object().put("error_code", "ENDPOINT_NOT_FOUND")
                        .put("message", "no endpoint " + path));
            }
        }
    }

    private void artifacts(HttpExchange exchange) throws IOException {
        try (exchange) {
            String rest = exchange.getRequestURI().getPath().substring("/api/2.0/mlflow-artifacts/artifacts".length());
            if (rest.isEmpty() || rest.equals("/")) {
                // list: ?path=folder -> {"files": [{"path", "is_dir", "file_size"}]} relative to the folder
                String folder = query(exchange.getRequestURI().getRawQuery()).getOrDefault("path", "");
                Map<String, ObjectNode> entries = new TreeMap<>();
                artifacts.forEach((path, content) -> {
                    if (path.startsWith(folder + "/")) {
                        String relative = path.substring(folder.length() + 1);
                        boolean dir = relative.contains("/");
                        String first = dir ? relative.substring(0, relative.indexOf('/')) : relative;
                        ObjectNode entry = Json.object().put("path", first).put("is_dir", dir);
                        if (!dir) {
                            entry.put("file_size", content.length);
                        }
                        entries.put(first, entry);
                    }
                });
                ObjectNode answer = Json.object();
                ArrayNode files = answer.putArray("files");
                entries.values().forEach(files::add);
                json(exchange, 200, answer);
                return;
            }
            byte[] content = artifacts.get(rest.substring(1));
            if (content == null) {
                json(exchange, 404, Json.object().put("error_code", "RESOURCE_DOES_NOT_EXIST")
                        .put("message", "File not found: " + rest.substring(1)));
                return;
            }
            exchange.getResponseHeaders().add("Content-Type", "application/octet-stream");
            exchange.sendResponseHeaders(200, content.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(content);
            }
        }
    }

    private static ObjectNode describe(Version v) {
        ObjectNode mv = Json.object();
        mv.put("name", v.name);
        mv.put("version", v.version);
        mv.put("creation_timestamp", 1765000000000L);
        mv.put("last_updated_timestamp", 1765000000000L);
        mv.put("current_stage", "None");
        mv.put("description", v.description);
        mv.put("source", v.source);
        mv.put("run_id", "0123456789abcdef0123456789abcdef");
        mv.put("status", v.status);
        mv.put("status_message", v.statusMessage);
        ArrayNode tags = mv.putArray("tags");
        synchronized (v.tags) {
            v.tags.forEach((key, value) -> tags.addObject().put("key", key).put("value", value));
        }
        return mv;
    }

    private static void notFound(HttpExchange exchange, Map<String, String> query) throws IOException {
        json(exchange, 404, Json.object().put("error_code", "RESOURCE_DOES_NOT_EXIST").put("message",
                "Model Version (name=" + query.get("name") + ", version=" + query.get("version") + ") not found"));
    }

    private static void json(HttpExchange exchange, int status, JsonNode body) throws IOException {
        byte[] bytes = Json.write(body).getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> query = new LinkedHashMap<>();
        if (raw != null) {
            for (String pair : raw.split("&")) {
                String[] kv = pair.split("=", 2);
                query.put(URLDecoder.decode(kv[0], StandardCharsets.UTF_8),
                        kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
            }
        }
        return query;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}

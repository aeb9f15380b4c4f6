package io.modelpress.bridge.registry;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * MLflow's documented REST API over HTTP: the model registry ({@code /api/2.0/mlflow/...}) and the
 * artifact proxy ({@code /api/2.0/mlflow-artifacts/artifacts/...}). A 4xx answer is final (the message
 * names MLflow's error code); a 5xx or an unreachable server is retryable.
 */
public final class MlflowClient {

    private static final String REGISTRY = "api/2.0/mlflow/";
    private static final String ARTIFACTS = "api/2.0/mlflow-artifacts/artifacts";

    private final URI base;
    private final Optional<String> token;
    private final Duration timeout;
    private final HttpClient http;

    /** One file or folder of an artifact listing. */
    public record ArtifactEntry(String path, boolean directory, long size) {
    }

    public MlflowClient(URI base, Optional<String> token, Duration timeout) {
        requireNonNull(base, "base is null");
        this.base = base.toString().endsWith("/") ? base : URI.create(base + "/");
        this.token = requireNonNull(token, "token is null").filter(t -> !t.isBlank());
        this.timeout = requireNonNull(timeout, "timeout is null");
        this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NORMAL).build();
    }

    public URI base() {
        return base;
    }

    public ModelVersion getModelVersion(String name, String version) {
        JsonNode answer = get(REGISTRY + "model-versions/get?name=" + encode(name) + "&version=" + encode(version),
                "model-versions/get " + name + "/" + version);
        JsonNode mv = answer.path("model_version");
        Map<String, String> tags = new LinkedHashMap<>();
        for (JsonNode tag : mv.path("tags")) {
            tags.put(tag.path("key").asText(), tag.path("value").asText());
        }
        return new ModelVersion(Json.text(mv, "name").orElse(name), Json.text(mv, "version").orElse(version),
                Json.text(mv, "status").orElse(null), Json.text(mv, "status_message").orElse(null),
                Json.text(mv, "source").orElse(null), Json.text(mv, "run_id").orElse(null), tags);
    }

    /** Where the version's files are: {@code s3://...}, {@code mlflow-artifacts:/...}, ... */
    public String getDownloadUri(String name, String version) {
        JsonNode answer = get(REGISTRY + "model-versions/get-download-uri?name=" + encode(name) + "&version="
                + encode(version), "model-versions/get-download-uri " + name + "/" + version);
        return Json.text(answer, "artifact_uri").orElseThrow(() -> new RegistryException(
                "MLflow gave no artifact_uri for " + name + "/" + version, false));
    }

    public void setTag(String name, String version, String key, String value) {
        ObjectNode body = Json.object().put("name", name).put("version", version).put("key", key).put("value", value);
        post(REGISTRY + "model-versions/set-tag", body, "model-versions/set-tag " + name + "/" + version + " " + key);
    }

    /** Creates the registered model unless it exists. */
    public void ensureRegisteredModel(String name, String description) {
        ObjectNode body = Json.object().put("name", name).put("description", description);
        try {
            post(REGISTRY + "registered-models/create", body, "registered-models/create " + name);
        } catch (MlflowError e) {
            if (!"RESOURCE_ALREADY_EXISTS".equals(e.code)) {
                throw e;
            }
        }
    }

    /** Registers a new version of {@code name} from {@code source}; returns its version number. */
    public String createModelVersion(String name, String source, String description, Map<String, String> tags) {
        ObjectNode body = Json.object().put("name", name).put("source", source).put("description", description);
        ArrayNode tagList = body.putArray("tags");
        tags.forEach((key, value) -> tagList.addObject().put("key", key).put("value", value));
        JsonNode answer = post(REGISTRY + "model-versions/create", body, "model-versions/create " + name);
        return Json.text(answer.path("model_version"), "version").orElseThrow(() -> new RegistryException(
                "MLflow created a version of " + name + " but gave no version number", false));
    }

    /** The files and folders directly in an artifact folder of the proxy. */
    public List<ArtifactEntry> listArtifacts(String path) {
        JsonNode answer = get(ARTIFACTS + "?path=" + encode(path), "mlflow-artifacts list " + path);
        List<ArtifactEntry> entries = new ArrayList<>();
        for (JsonNode file : answer.path("files")) {
            String entry = file.path("path").asText();
            // the proxy answers paths relative to the listed folder; some servers answer them whole
            String name = entry.startsWith(path + "/") ? entry.substring(path.length() + 1) : entry;
            entries.add(new ArtifactEntry(name, file.path("is_dir").asBoolean(false), file.path("file_size").asLong(0)));
        }
        return entries;
    }

    /** Downloads one file of the proxy to {@code target}. */
    public void downloadArtifact(String path, Path target) {
        HttpRequest request = request(ARTIFACTS + "/" + encodePath(path)).GET().build();
        try {
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream body = response.body()) {
                if (response.statusCode() != 200) {
                    throw error(response.statusCode(), new String(body.readNBytes(4096), StandardCharsets.UTF_8),
                            "mlflow-artifacts download " + path);
                }
                Files.copy(body, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new RegistryException("MLflow at " + base + " is unreachable (mlflow-artifacts download " + path + "): "
                    + e.getMessage(), true, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException("interrupted while downloading " + path, true, e);
        }
    }

    private JsonNode get(String path, String what) {
        return send(request(path).GET().build(), what);
    }

    private JsonNode post(String path, JsonNode body, String what) {
        return send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(Json.write(body))).build(), what);
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(base.resolve(path)).timeout(timeout);
        token.ifPresent(t -> builder.header("Authorization", "Bearer " + t));
        return builder;
    }

    private JsonNode send(HttpRequest request, String what) {
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() / 100 != 2) {
                throw error(response.statusCode(), response.body(), what);
            }
            String body = response.body();
            return body == null || body.isBlank() ? Json.object() : Json.mapper().readTree(body);
        } catch (IOException e) {
            throw new RegistryException("MLflow at " + base + " is unreachable (" + what + "): " + e.getMessage(), true, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException("interrupted while calling MLflow (" + what + ")", true, e);
        }
    }

    private static MlflowError error(int status, String body, String what) {
        String code = "";
        String message = body == null ? "" : body.strip();
        try {
            JsonNode error = Json.mapper().readTree(body);
            code = Json.text(error, "error_code").orElse("");
            message = Json.text(error, "message").orElse(message);
        } catch (IOException | RuntimeException notJson) {
            // the message stays the raw body
        }
        if (message.length() > 300) {
            message = message.substring(0, 300) + "...";
        }
        return new MlflowError(code, "MLflow answered " + status + (code.isEmpty() ? "" : " " + code) + " to " + what
                + (message.isEmpty() ? "" : ": " + message.replaceAll("\\s+", " ")), status >= 500 || status == 429);
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String encodePath(String path) {
        StringBuilder out = new StringBuilder();
        for (String part : path.split("/")) {
            if (!part.isEmpty()) {
                out.append(out.length() == 0 ? "" : "/").append(encode(part));
            }
        }
        return out.toString();
    }

    /** An error answer of MLflow, with its {@code error_code}. */
    public static final class MlflowError extends RegistryException {
        private static final long serialVersionUID = 1L;
        private final String code;

        MlflowError(String code, String message, boolean retryable) {
            super(message, retryable);
            this.code = code;
        }

        public String code() {
            return code;
        }
    }
}

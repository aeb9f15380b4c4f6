package io.modelpress.cli;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.modelpress.engine.EngineException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** The registry bridge's upload API over HTTP: {@code POST /models} (multipart) and its status. */
final class BridgeClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final HttpClient http;

    /** One part: a JSON text (file null) or a file sent under its own name. */
    record Part(String name, String json, Path file, String fileName) {
    }

    /** An answer: its status, the Location header and the JSON body. */
    record Answer(int status, String location, JsonNode body) {
    }

    BridgeClient(URI base) {
        requireNonNull(base, "base is null");
        this.base = base.toString().endsWith("/") ? base : URI.create(base + "/");
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    URI base() {
        return base;
    }

    /** Uploads the parts; a refusal is an {@link EngineException} with the bridge's one-line reason. */
    Answer upload(List<Part> parts) {
        String boundary = "modelpress-" + UUID.randomUUID();
        List<HttpRequest.BodyPublisher> body = new ArrayList<>();
        try {
            for (Part part : parts) {
                String head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + part.name() + "\""
                        + (part.file() == null ? "\r\nContent-Type: application/json"
                                : "; filename=\"" + part.fileName() + "\"\r\nContent-Type: application/octet-stream")
                        + "\r\n\r\n";
                body.add(HttpRequest.BodyPublishers.ofString(head, StandardCharsets.UTF_8));
                body.add(part.file() == null ? HttpRequest.BodyPublishers.ofString(part.json(), StandardCharsets.UTF_8)
                        : HttpRequest.BodyPublishers.ofFile(part.file()));
                body.add(HttpRequest.BodyPublishers.ofString("\r\n"));
            }
        } catch (FileNotFoundException e) {
            throw new EngineException("cannot read " + e.getMessage(), e);
        }
        body.add(HttpRequest.BodyPublishers.ofString("--" + boundary + "--\r\n"));
        HttpRequest request = HttpRequest.newBuilder(base.resolve("models"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.concat(body.toArray(HttpRequest.BodyPublisher[]::new))).build();
        return send(request, "upload");
    }

    /** The status at a location the upload answered. */
    JsonNode status(String location) {
        return send(HttpRequest.newBuilder(base.resolve(location.startsWith("/") ? location.substring(1) : location))
                .timeout(Duration.ofSeconds(30)).GET().build(), "status").body();
    }

    private Answer send(HttpRequest request, String what) {
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new EngineException("cannot reach the registry bridge at " + base + " (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + "); start one or point --bridge"
                    + " (or MODELPRESS_BRIDGE_URL) at it", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException("interrupted", e);
        }
        JsonNode body;
        try {
            body = JSON.readTree(response.body() == null || response.body().isBlank() ? "{}" : response.body());
        } catch (IOException e) {
            body = JSON.createObjectNode().put("detail", response.body());
        }
        if (response.statusCode() / 100 != 2) {
            String detail = body.path("detail").asText(body.path("message").asText(response.body()));
            throw new EngineException("the registry bridge refused the " + what + " (" + response.statusCode() + "): "
                    + (detail.isBlank() ? "no reason given" : detail));
        }
        return new Answer(response.statusCode(), response.headers().firstValue("Location").orElse(null), body);
    }
}

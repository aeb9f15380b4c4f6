package io.modelpress.engine.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelpress.engine.EngineException;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The same request computed before, answered from its index entry: the stored result and benchmark
 * events again, marked replayed and made this registration's. A redelivered request gets the very
 * events it got then; another version or id registering the same bytes from the same folder gets
 * its own identity on them, while the figures stay as they were measured.
 */
public final class Replay {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Replay() {
    }

    /** Who asks this time: what a replayed event says of the registration rather than of the result. */
    public record Registration(String modelId, String version, String artifactUri, Map<String, String> labels,
            Optional<String> calibrationDataUri) {
        public Registration {
            Objects.requireNonNull(modelId, "modelId is null");
            Objects.requireNonNull(version, "version is null");
            Objects.requireNonNull(artifactUri, "artifactUri is null");
            labels = Map.copyOf(labels);
            Objects.requireNonNull(calibrationDataUri, "calibrationDataUri is null");
        }
    }

    /** The result and benchmark events to publish again. */
    public record Events(ObjectNode result, ObjectNode benchmark) {
    }

    /**
     * @param entry the index entry's text: an object with the "result" and "benchmark" events
     * @param where where it was read, for the error
     * @throws EngineException when the entry is not JSON or lacks an event
     */
    public static Events of(String entry, String where, Registration registration) {
        JsonNode tree;
        try {
            tree = JSON.readTree(entry);
        } catch (IOException e) {
            throw new EngineException("the stored result " + where + " is not JSON: " + e.getMessage(), e);
        }
        if (!(tree.get("result") instanceof ObjectNode result) || !(tree.get("benchmark") instanceof ObjectNode benchmark)) {
            throw new EngineException("the stored result " + where + " lacks its result or benchmark event");
        }
        asThisRegistration(result, registration);
        if (result.path("input") instanceof ObjectNode registered) {
            registered.put("artifactUri", registration.artifactUri());
        }
        ObjectNode labels = result.putObject("labels");
        new java.util.TreeMap<>(registration.labels()).forEach(labels::put);
        if (result.path("calibration") instanceof ObjectNode calibration) {
            registration.calibrationDataUri().ifPresentOrElse(uri -> calibration.put("dataUri", uri),
                    () -> calibration.remove("dataUri"));
        }
        asThisRegistration(benchmark, registration);
        return new Events(result, benchmark);
    }

    private static void asThisRegistration(ObjectNode event, Registration registration) {
        event.put("modelId", registration.modelId()).put("version", registration.version()).put("replayed", true);
    }
}

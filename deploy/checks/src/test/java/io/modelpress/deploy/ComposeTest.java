package io.modelpress.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** docker-compose.yml: well formed, its references resolve, and the services get settings they read. */
class ComposeTest {

    private static final Set<String> SERVICE_KEYS = Set.of("image", "build", "command", "entrypoint", "depends_on",
            "ports", "environment", "volumes", "healthcheck", "stop_grace_period", "restart");

    @Test
    void everyServiceIsRunnableAndItsReferencesResolve() throws Exception {
        JsonNode compose = compose();
        assertEquals(Set.of("services", "volumes"), fieldNames(compose));
        JsonNode services = compose.path("services");
        Set<String> volumes = fieldNames(compose.path("volumes"));
        Set<String> hostPorts = new HashSet<>();
        for (String name : fieldNames(services)) {
            JsonNode service = services.path(name);
            Set<String> unknown = new HashSet<>(fieldNames(service));
            unknown.removeAll(SERVICE_KEYS);
            assertEquals(Set.of(), unknown, name + ": keys compose would not expect here");
            assertTrue(service.has("image") || service.has("build"), name + " has neither image nor build");
            if (service.has("build")) {
                Path context = Repo.root().resolve(service.path("build").path("context").asText());
                assertTrue(Files.isRegularFile(context.resolve(service.path("build").path("dockerfile").asText("Dockerfile"))),
                        name + ": no Dockerfile in " + context);
            }
            service.path("depends_on").fieldNames().forEachRemaining(d -> assertTrue(services.has(d), name + " depends on " + d));
            service.path("depends_on").forEach(d -> assertTrue(
                    List.of("service_healthy", "service_completed_successfully", "service_started")
                            .contains(d.path("condition").asText()), name + ": " + d));
            for (JsonNode mount : service.path("volumes")) {
                String source = mount.asText().split(":")[0];
                assertTrue(source.startsWith("/") || source.startsWith(".") || volumes.contains(source),
                        name + " mounts an undeclared volume " + source);
            }
            for (JsonNode port : service.path("ports")) {
                assertTrue(port.isTextual(), name + ": quote ports (\"9092:9092\"), YAML reads 60:60 as a number");
                assertTrue(hostPorts.add(port.asText().split(":")[0]), name + " reuses host port " + port.asText());
            }
            assertTrue(service.path("environment").isMissingNode() || service.path("environment").isObject(), name);
            service.path("environment").fields().forEachRemaining(e -> assertTrue(e.getValue().isValueNode(),
                    name + " " + e.getKey()));
        }
    }

    @Test
    void theCompressorReadsEverySettingComposeGivesItAndRunsTheKubernetesImage() throws Exception {
        JsonNode compressor = compose().path("services").path("compressor");
        Map<String, String> environment = new HashMap<>();
        compressor.path("environment").fields().forEachRemaining(e -> environment.put(e.getKey(), e.getValue().asText()));
        List<String> unread = new ArrayList<>();
        for (String variable : environment.keySet()) {
            if (ServiceSettings.compressorReads(variable).isEmpty()) {
                unread.add(variable);
            }
        }
        assertEquals(List.of(), unread);
        assertTrue(environment.get("KAFKA_BOOTSTRAP_SERVERS").startsWith("kafka:"), "the broker's in-network listener");
        assertEquals("http://minio:9000", ServiceSettings.compressorConfig(environment).s3().endpoint());

        JsonNode base = Manifests.parse("base", Files.readString(Repo.deploy().resolve("base/compressor/deployment.yaml")))
                .get("Deployment", "modelpress-compressor");
        assertEquals(Manifests.podSpec(base).path("containers").path(0).path("image").asText(),
                compressor.path("image").asText(), "compose and Kubernetes run the same image name");
        assertFalse(compressor.path("healthcheck").isMissingNode());
    }

    private static JsonNode compose() throws Exception {
        return Manifests.YAML.readTree(Repo.root().resolve("docker-compose.yml").toFile());
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new HashSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}

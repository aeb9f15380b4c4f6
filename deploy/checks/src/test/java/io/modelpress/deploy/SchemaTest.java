package io.modelpress.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** Both overlays (and the one-job-per-event variant) build with kustomize and match their schemas strictly. */
class SchemaTest {

    static Stream<Manifests> overlays() {
        return Stream.of(Overlays.all());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("overlays")
    void everyDocumentMatchesItsModelWithNoUnknownField(Manifests overlay) {
        assertTrue(overlay.documents().size() > 15, overlay.source() + " rendered only " + overlay.documents().size());
        assertEquals(List.of(), StrictSchema.problems(overlay));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("overlays")
    void everyKubernetesKedaAndPrometheusDocumentPassesTheirJsonSchemas(Manifests overlay) throws Exception {
        assertEquals(List.of(), NodeSchemas.problems(overlay));
        long strimzi = overlay.documents().stream()
                .filter(d -> d.path("apiVersion").asText().startsWith("kafka.strimzi.io/")).count();
        assertEquals(overlay.documents().size() - strimzi, NodeSchemas.checkedCount(overlay),
                "every document but Strimzi's went through the npm schemas");
    }

    @Test
    void theProductionKafkaClusterExampleMatchesStrimzisModel() throws IOException {
        Path example = Repo.deploy().resolve("overlays/production/kafka-cluster.example.yaml");
        Manifests kafka = Manifests.parse(example.toString(), Files.readString(example));
        assertEquals(List.of("Kafka"), kafka.documents().stream().map(d -> d.path("kind").asText()).toList());
        assertEquals(List.of(), StrictSchema.problems(kafka));
    }

    /** A resource file kustomize never renders would never be checked: each one is in a kustomization. */
    @Test
    void everyManifestFileUnderDeployIsUsedByAKustomization() throws IOException {
        Set<String> used = new TreeSet<>();
        Set<String> files = new TreeSet<>();
        try (Stream<Path> walk = Files.walk(Repo.deploy())) {
            for (Path file : walk.filter(p -> !p.startsWith(Repo.deploy().resolve("checks"))).toList()) {
                String name = file.getFileName().toString();
                if (name.equals("kustomization.yaml")) {
                    JsonNode kustomization = Manifests.YAML.readTree(file.toFile());
                    for (String field : List.of("resources", "components", "configurations")) {
                        kustomization.path(field).forEach(r -> used.add(file.getParent().resolve(r.asText()).normalize().toString()));
                    }
                    kustomization.path("patches").forEach(p -> {
                        if (p.has("path")) {
                            used.add(file.getParent().resolve(p.path("path").asText()).normalize().toString());
                        }
                    });
                    kustomization.path("configMapGenerator").forEach(g -> g.path("envs")
                            .forEach(e -> used.add(file.getParent().resolve(e.asText()).normalize().toString())));
                } else if (name.endsWith(".yaml") || name.endsWith(".env")) {
                    files.add(file.toString());
                }
            }
        }
        List<String> unused = new ArrayList<>(files);
        unused.removeAll(used);
        // Shown to the reader, applied by hand or by a documented edit: checked by their own tests.
        unused.remove(Repo.deploy().resolve("overlays/production/kafka-cluster.example.yaml").toString());
        unused.remove(Repo.deploy().resolve("overlays/production/scaledjob-kafka-auth.yaml").toString());
        assertEquals(List.of(), unused);
    }
}

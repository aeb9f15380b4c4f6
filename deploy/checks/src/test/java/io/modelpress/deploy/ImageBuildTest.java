package io.modelpress.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.maven.model.Dependency;
import org.apache.maven.model.Model;
import org.apache.maven.model.Profile;
import org.apache.maven.model.io.xpp3.MavenXpp3Reader;
import org.junit.jupiter.api.Test;

/**
 * The image builds are configured, not run (building pulls a base image from a registry these
 * machines cannot reach): every Quarkus service has an "image" profile, off by default, that
 * builds with Quarkus' Jib extension at the BOM's version the image its Deployment runs.
 */
class ImageBuildTest {

    @Test
    void everyQuarkusServiceBuildsTheImageItsDeploymentRuns() throws Exception {
        Map<String, String> deployed = deployedImages();
        assertEquals(List.of("compressor", "dashboard", "registry-bridge"), List.copyOf(deployed.keySet()));
        List<Path> services = quarkusServices();
        assertFalse(services.isEmpty());
        for (Path pom : services) {
            Model model = read(pom);
            String service = pom.getParent().getFileName().toString();
            Profile image = model.getProfiles().stream().filter(p -> p.getId().equals("image")).findFirst()
                    .orElseThrow(() -> new AssertionError(pom + " has no \"image\" profile (deploy/README.md, Images)"));
            assertTrue(image.getActivation() == null, pom + ": the image profile is off unless asked for");
            Dependency jib = image.getDependencies().stream()
                    .filter(d -> d.getArtifactId().equals("quarkus-container-image-jib")).findFirst()
                    .orElseThrow(() -> new AssertionError(pom + ": the image profile lacks quarkus-container-image-jib"));
            assertEquals("io.quarkus", jib.getGroupId());
            assertEquals(null, jib.getVersion(), "the BOM's version");
            assertTrue(model.getDependencies().stream().noneMatch(d -> d.getArtifactId().startsWith("quarkus-container-image")),
                    pom + ": no container-image extension outside the profile");

            var properties = image.getProperties();
            assertEquals("true", properties.getProperty("quarkus.container-image.build"));
            String name = properties.getProperty("quarkus.container-image.group") + "/"
                    + properties.getProperty("quarkus.container-image.name") + ":"
                    + properties.getProperty("quarkus.container-image.tag").replace("${project.version}", version(model));
            assertEquals(deployed.get(service), name, service + ": the profile builds what the base Deployment runs");
            assertEquals("1001", properties.getProperty("quarkus.jib.user"), "the uid the pods run as");
        }
    }

    @Test
    void theDockerfileImageReadsTheSameHeapSetting() throws IOException {
        String dockerfile = Files.readString(Repo.root().resolve("services/compressor/Dockerfile"));
        assertTrue(dockerfile.contains("$JAVA_OPTS"), "the entrypoint passes JAVA_OPTS to java");
        assertTrue(dockerfile.contains("--uid 1001"), "the image's user is the pods' uid");
    }

    /** service folder name -> image of its workload (Deployment or StatefulSet) in the base. */
    private static Map<String, String> deployedImages() throws IOException {
        Map<String, String> images = new TreeMap<>();
        try (Stream<Path> files = Files.walk(Repo.deploy().resolve("base"))) {
            for (Path file : files.filter(f -> List.of("deployment.yaml", "statefulset.yaml")
                    .contains(f.getFileName().toString())).toList()) {
                Manifests manifests = Manifests.parse(file.toString(), Files.readString(file));
                for (var deployment : manifests.modelpressWorkloads()) {
                    images.put(file.getParent().getFileName().toString(),
                            Manifests.podSpec(deployment).path("containers").path(0).path("image").asText());
                }
            }
        }
        return images;
    }

    /** services/* modules built by quarkus-maven-plugin that serve health checks: the servers, not the CLI. */
    private static List<Path> quarkusServices() throws Exception {
        List<Path> poms = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(Repo.root().resolve("services"))) {
            for (Path dir : dirs.sorted().toList()) {
                Path pom = dir.resolve("pom.xml");
                if (!Files.isRegularFile(pom)) {
                    continue;
                }
                Model model = read(pom);
                boolean quarkusApp = model.getBuild() != null && model.getBuild().getPlugins().stream()
                        .anyMatch(p -> p.getArtifactId().equals("quarkus-maven-plugin"));
                boolean server = model.getDependencies().stream()
                        .anyMatch(d -> d.getArtifactId().equals("quarkus-smallrye-health"));
                if (quarkusApp && server) {
                    poms.add(pom);
                }
            }
        }
        return poms;
    }

    private static String version(Model model) {
        return model.getVersion() != null ? model.getVersion() : model.getParent().getVersion();
    }

    private static Model read(Path pom) throws Exception {
        try (Reader reader = Files.newBufferedReader(pom)) {
            return new MavenXpp3Reader().read(reader);
        }
    }
}

package io.modelpress.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What every modelpress workload must have in every overlay: health probes, requests and limits
 * that leave room for native memory, a locked-down pod, bounded scratch volumes, a disruption
 * budget and a metrics scrape, and references that resolve.
 */
class WorkloadTest {

    static Stream<Manifests> overlays() {
        return Stream.of(Overlays.all());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("overlays")
    void everyServiceIsDeployed(Manifests overlay) {
        Set<String> names = Set.copyOf(overlay.modelpressWorkloads().stream().map(Manifests::name).toList());
        assertEquals(Set.of("modelpress-compressor", "modelpress-registry-bridge", "modelpress-dashboard"), names);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("overlays")
    void probesAskTheQuarkusHealthEndpoints(Manifests overlay) {
        for (JsonNode workload : overlay.modelpressWorkloads()) {
            if (workload.path("kind").asText().equals("ScaledJob")) {
                continue; // a Job's pod is not behind a Service: no readiness, and it ends by itself
            }
            JsonNode container = Manifests.podSpec(workload).path("containers").path(0);
            String id = Manifests.id(workload);
            assertEquals("/q/health/started", container.path("startupProbe").path("httpGet").path("path").asText(), id);
            assertEquals("/q/health/ready", container.path("readinessProbe").path("httpGet").path("path").asText(), id);
            assertEquals("/q/health/live", container.path("livenessProbe").path("httpGet").path("path").asText(), id);
            for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
                assertEquals("http", container.path(probe).path("httpGet").path("port").asText(), id + " " + probe);
            }
            assertEquals(8080, container.path("ports").path(0).path("containerPort").asInt(), id);
        }
    }

    /** Heap is half the memory limit: ONNX Runtime, PyTorch and Netty allocate outside it. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("overlays")
    void memoryLimitsLeaveHalfForNativeMemory(Manifests overlay) {
        for (JsonNode workload : overlay.modelpressWorkloads()) {
            String id = Manifests.id(workload);
            for (JsonNode container : Manifests.podSpec(workload).path("containers")) {
                JsonNode resources = container.path("resources");
                for (String field : List.of("requests", "limits")) {
                    for (String resource : List.of("cpu", "memory")) {
                        assertFalse(resources.path(field).path(resource).isMissingNode(), id + " has no " + field + "." + resource);
                    }
                }
                Quantity request = new Quantity(resources.path("requests").path("memory").asText());
                Quantity limit = new Quantity(resources.path("limits").path("memory").asText());
                assertEquals(0, request.getNumericalAmount().compareTo(limit.getNumericalAmount()),
                        id + ": memory request equals the limit, so the pod is not evicted for using what it was given");
                String javaOpts = overlay.environment(container).getOrDefault("JAVA_OPTS", "");
                assertTrue(javaOpts.contains("-XX:MaxRAMPercentage=50"), id + ": heap at 50% of the limit: " + javaOpts);
                assertFalse(javaOpts.matches(".*-Xmx\\S*.*"), id + ": a fixed -Xmx would not follow the limit: " + javaOpts);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("overlays")
    void podsRunAsNonRootOnAReadOnlyRootWithBoundedScratchVolumes(Manifests overlay) {
        List<JsonNode> pods = new ArrayList<>();
        overlay.modelpressWorkloads().forEach(pods::add);
        overlay.ofKind("Deployment").forEach(d -> { if (!pods.contains(d)) pods.add(d); });
        overlay.ofKind("Job").forEach(pods::add);
        for (JsonNode workload : pods) {
            String id = Manifests.id(workload);
            JsonNode pod = Manifests.podSpec(workload);
            assertTrue(pod.path("securityContext").path("runAsNonRoot").asBoolean(), id + " runAsNonRoot");
            assertFalse(pod.path("automountServiceAccountToken").asBoolean(true), id + " needs no API token");
            for (JsonNode container : pod.path("containers")) {
                JsonNode security = container.path("securityContext");
                assertTrue(security.path("readOnlyRootFilesystem").asBoolean(), id + " readOnlyRootFilesystem");
                assertFalse(security.path("allowPrivilegeEscalation").asBoolean(true), id + " allowPrivilegeEscalation");
                assertEquals("[\"ALL\"]", security.path("capabilities").path("drop").toString(), id + " drops capabilities");
                for (JsonNode mount : container.path("volumeMounts")) {
                    JsonNode volume = volume(workload, mount.path("name").asText());
                    assertFalse(volume.isMissingNode(), id + " mounts a volume it lacks: " + mount);
                    if (volume.has("emptyDir")) {
                        assertTrue(volume.path("emptyDir").has("sizeLimit"), id + ": emptyDir without sizeLimit: " + volume);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("overlays")
    void theCompressorWorksInItsWorkVolumeAndUnpacksNativeLibrariesIntoAVolume(Manifests overlay) {
        JsonNode compressor = compressor(overlay);
        JsonNode container = Manifests.podSpec(compressor).path("containers").path(0);
        Map<String, String> environment = overlay.environment(container);
        List<String> mounts = new ArrayList<>();
        container.path("volumeMounts").forEach(m -> mounts.add(m.path("mountPath").asText()));
        assertTrue(mounts.contains(environment.get("MODELPRESS_WORK_DIR")), "work dir on a volume: " + mounts);
        assertTrue(mounts.contains("/tmp"), "java.io.tmpdir on a volume: " + mounts);
        assertTrue(mounts.stream().anyMatch(m -> environment.get("DJL_CACHE_DIR").startsWith(m + "/")),
                "DJL's cache on a volume: " + mounts);
    }

    /** A pod killed mid-model costs a recompute: the grace outlasts the longest model. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("overlays")
    void terminationGraceOutlastsTheLongestModelAndTheServicesOwnShutdown(Manifests overlay) {
        JsonNode compressor = compressor(overlay);
        JsonNode pod = Manifests.podSpec(compressor);
        Map<String, String> environment = overlay.environment(pod.path("containers").path(0));
        long grace = pod.path("terminationGracePeriodSeconds").asLong();
        for (String setting : List.of("MODELPRESS_JOB_TIMEOUT", "MODELPRESS_SHUTDOWN_GRACE", "QUARKUS_SHUTDOWN_TIMEOUT")) {
            long seconds = Durations.parse(environment.get(setting)).toSeconds();
            assertTrue(grace > seconds, overlay.source() + ": terminationGracePeriodSeconds " + grace + " <= " + setting
                    + " " + seconds + "s");
        }
        assertTrue(Durations.parse(environment.get("QUARKUS_SHUTDOWN_TIMEOUT"))
                .compareTo(Durations.parse(environment.get("MODELPRESS_SHUTDOWN_GRACE"))) > 0,
                "Quarkus waits for the service's own shutdown");
        assertTrue(Durations.parse(environment.get("MODELPRESS_SHUTDOWN_GRACE"))
                .compareTo(Durations.parse(environment.get("MODELPRESS_JOB_TIMEOUT"))) >= 0,
                "a stopping pod lets its model finish");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("overlays")
    void everyServiceHasADisruptionBudgetAndAScrapedService(Manifests overlay) {
        for (JsonNode deployment : overlay.modelpressWorkloads()) {
            String name = Manifests.name(deployment);
            if (deployment.path("kind").asText().equals("ScaledJob")) {
                continue; // Jobs are not disrupted, and a Job's pod is not behind a Service
            }
            JsonNode labels = deployment.path("spec").path("template").path("metadata").path("labels");
            assertTrue(overlay.ofKind("PodDisruptionBudget").stream()
                    .anyMatch(b -> selects(b.path("spec").path("selector").path("matchLabels"), labels)
                            && b.path("spec").path("maxUnavailable").asInt() == 1),
                    name + " has a PodDisruptionBudget that lets one pod go at a time");
            JsonNode service = overlay.ofKind("Service").stream()
                    .filter(s -> selects(s.path("spec").path("selector"), labels)).findFirst()
                    .orElseThrow(() -> new AssertionError(name + " has no Service"));
            assertTrue(overlay.ofKind("ServiceMonitor").stream()
                    .anyMatch(m -> selects(m.path("spec").path("selector").path("matchLabels"),
                            service.path("metadata").path("labels"))
                            && m.path("spec").path("endpoints").path(0).path("path").asText().equals("/q/metrics")
                            && m.path("spec").path("endpoints").path(0).path("port").asText()
                                    .equals(service.path("spec").path("ports").path(0).path("name").asText())),
                    name + " is scraped at /q/metrics by a ServiceMonitor");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("overlays")
    void everyConfigMapAndSecretAWorkloadNamesExists(Manifests overlay) {
        List<String> kafkaUsers = overlay.ofKind("KafkaUser").stream().map(Manifests::name).toList();
        List<JsonNode> workloads = new ArrayList<>(overlay.modelpressWorkloads());
        overlay.ofKind("Deployment").stream().filter(d -> !workloads.contains(d)).forEach(workloads::add);
        overlay.ofKind("Job").forEach(workloads::add);
        for (JsonNode workload : workloads) {
            JsonNode pod = Manifests.podSpec(workload);
            for (JsonNode container : pod.path("containers")) {
                for (JsonNode from : container.path("envFrom")) {
                    if (from.has("configMapRef")) {
                        overlay.get("ConfigMap", from.path("configMapRef").path("name").asText());
                    } else {
                        secretExists(overlay, kafkaUsers, from.path("secretRef").path("name").asText(), null);
                    }
                }
                for (JsonNode env : container.path("env")) {
                    JsonNode ref = env.path("valueFrom").path("secretKeyRef");
                    if (!ref.isMissingNode()) {
                        secretExists(overlay, kafkaUsers, ref.path("name").asText(), ref.path("key").asText());
                    }
                }
            }
            for (JsonNode volume : pod.path("volumes")) {
                if (volume.has("secret")) {
                    for (JsonNode item : volume.path("secret").path("items")) {
                        secretExists(overlay, kafkaUsers, volume.path("secret").path("secretName").asText(),
                                item.path("key").asText());
                    }
                }
            }
        }
    }

    static void secretExists(Manifests overlay, List<String> kafkaUsers, String name, String key) {
        List<String> keys = overlay.find("Secret", name).map(s -> List.copyOf(Manifests.data(s).keySet()))
                .orElseGet(() -> kafkaUsers.contains(name) ? ExternalSecrets.SCRAM_USER_KEYS : ExternalSecrets.keys(name));
        assertFalse(keys.isEmpty(), overlay.source() + ": Secret " + name + " is neither in the overlay nor documented");
        if (key != null) {
            assertTrue(keys.contains(key), overlay.source() + ": Secret " + name + " has no key " + key + ": " + keys);
        }
    }

    static JsonNode compressor(Manifests overlay) {
        return overlay.find("Deployment", "modelpress-compressor")
                .or(() -> overlay.find("ScaledJob", "modelpress-compressor"))
                .orElseThrow(() -> new AssertionError(overlay.source() + " runs no compressor"));
    }

    /** The registry bridge's journal and statuses outlive its pod: a claim of the StatefulSet, one replica. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("overlays")
    void theRegistryBridgeKeepsItsJournalOnAPersistentVolume(Manifests overlay) {
        JsonNode bridge = overlay.workload("modelpress-registry-bridge");
        assertEquals("StatefulSet", bridge.path("kind").asText());
        assertEquals(1, bridge.path("spec").path("replicas").asInt(), "one journal, one set of statuses");
        JsonNode container = Manifests.podSpec(bridge).path("containers").path(0);
        String dataDir = overlay.environment(container).get("MODELPRESS_BRIDGE_DATA_DIR");
        JsonNode mount = null;
        for (JsonNode m : container.path("volumeMounts")) {
            if (m.path("mountPath").asText().equals(dataDir)) {
                mount = m;
            }
        }
        assertTrue(mount != null, "the data dir " + dataDir + " is a mount");
        assertTrue(volume(bridge, mount.path("name").asText()).has("spec"),
                "the data dir is a PersistentVolumeClaim of the StatefulSet, not a pod volume");
    }

    /** A pod volume, or a StatefulSet's claim template, of this name. */
    private static JsonNode volume(JsonNode workload, String name) {
        List<JsonNode> volumes = new ArrayList<>();
        Manifests.podSpec(workload).path("volumes").forEach(volumes::add);
        workload.path("spec").path("volumeClaimTemplates").forEach(volumes::add);
        for (JsonNode volume : volumes) {
            String named = volume.has("metadata") ? volume.path("metadata").path("name").asText() : volume.path("name").asText();
            if (named.equals(name)) {
                return volume;
            }
        }
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }

    private static boolean selects(JsonNode selector, JsonNode labels) {
        if (selector.isMissingNode() || selector.isEmpty()) {
            return false;
        }
        var fields = selector.fields();
        while (fields.hasNext()) {
            var entry = fields.next();
            if (!entry.getValue().asText().equals(labels.path(entry.getKey()).asText(null))) {
                return false;
            }
        }
        return true;
    }
}

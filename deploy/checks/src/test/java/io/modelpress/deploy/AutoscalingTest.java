package io.modelpress.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** KEDA scales the compressor on the lag of its own group on its own input topic, within the partitions. */
class AutoscalingTest {

    static Stream<Manifests> overlays() {
        return Stream.of(Overlays.all());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("overlays")
    void theTriggerWatchesTheCompressorsGroupOnItsInputTopic(Manifests overlay) {
        JsonNode scaler = scaler(overlay);
        JsonNode compressor = WorkloadTest.compressor(overlay);
        JsonNode container = Manifests.podSpec(compressor).path("containers").path(0);
        Map<String, String> environment = overlay.environment(container);

        JsonNode triggers = scaler.path("spec").path("triggers");
        assertEquals(1, triggers.size());
        JsonNode trigger = triggers.path(0);
        assertEquals("kafka", trigger.path("type").asText());
        JsonNode metadata = trigger.path("metadata");
        assertEquals(environment.get("MODELPRESS_TOPICS_MODEL_REGISTERED"), metadata.path("topic").asText());
        assertEquals("modelpress.model-registered", metadata.path("topic").asText());
        // KEDA reads these from the scale target's container, so they are the compressor's own.
        assertTrue(environment.containsKey(metadata.path("bootstrapServersFromEnv").asText()), metadata.toString());
        assertTrue(environment.containsKey(metadata.path("consumerGroupFromEnv").asText()), metadata.toString());
        assertTrue(metadata.path("lagThreshold").isTextual(), "KEDA wants lagThreshold as a string");
        assertTrue(Integer.parseInt(metadata.path("lagThreshold").asText()) > 0);

        int partitions = KafkaResourcesTest.topics(overlay).get(metadata.path("topic").asText())
                .path("spec").path("partitions").asInt();
        int max = scaler.path("spec").path("maxReplicaCount").asInt();
        assertTrue(max > 0 && max <= partitions, "maxReplicaCount " + max + " within " + partitions + " partitions");
        if (overlay != Overlays.local()) {
            assertEquals(partitions, max, "production may use every partition");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("overlays")
    void kedaLogsInWithSecretsThatExist(Manifests overlay) {
        JsonNode trigger = scaler(overlay).path("spec").path("triggers").path(0);
        JsonNode auth = overlay.get("TriggerAuthentication", trigger.path("authenticationRef").path("name").asText());
        List<String> kafkaUsers = overlay.ofKind("KafkaUser").stream().map(Manifests::name).toList();
        java.util.Map<String, String> parameters = new java.util.HashMap<>();
        for (JsonNode ref : auth.path("spec").path("secretTargetRef")) {
            WorkloadTest.secretExists(overlay, kafkaUsers, ref.path("name").asText(), ref.path("key").asText());
            overlay.find("Secret", ref.path("name").asText())
                    .ifPresent(s -> parameters.put(ref.path("parameter").asText(),
                            Manifests.data(s).get(ref.path("key").asText())));
        }
        if (overlay == Overlays.local()) {
            assertEquals(Map.of("sasl", "none", "tls", "disable"), parameters);
        } else {
            assertEquals("scram_sha512", parameters.get("sasl"));
            assertEquals("enable", parameters.get("tls"));
            assertTrue(kafkaUsers.contains(parameters.get("username")), "KEDA's user is a KafkaUser");
            List<String> all = auth.path("spec").path("secretTargetRef").findValuesAsText("parameter");
            assertTrue(all.containsAll(List.of("password", "ca")), all.toString());
        }
    }

    @Test
    void theScaledObjectScalesTheCompressorAndScalesInSlowly() {
        for (Manifests overlay : List.of(Overlays.local(), Overlays.production())) {
            JsonNode scaler = overlay.get("ScaledObject", "modelpress-compressor");
            assertEquals("modelpress-compressor", scaler.path("spec").path("scaleTargetRef").path("name").asText());
            assertTrue(scaler.path("spec").path("minReplicaCount").asInt() >= 1, "one replica is always consuming");
            JsonNode scaleDown = scaler.path("spec").path("advanced").path("horizontalPodAutoscalerConfig")
                    .path("behavior").path("scaleDown");
            assertTrue(scaleDown.path("stabilizationWindowSeconds").asInt() >= 300, scaleDown.toString());
            assertTrue(overlay.get("Deployment", "modelpress-compressor").path("spec").path("replicas").isMissingNode(),
                    "the Deployment leaves the replica count to KEDA, or every apply would reset it");
        }
    }

    @Test
    void theJobVariantRunsTheSameContainerAsTheDeployment() {
        JsonNode job = Overlays.productionWithJobs().get("ScaledJob", "modelpress-compressor");
        JsonNode jobContainer = Manifests.podSpec(job).path("containers").path(0);
        JsonNode deployed = Manifests.podSpec(Overlays.production().get("Deployment", "modelpress-compressor"))
                .path("containers").path(0);
        assertEquals(deployed.path("image"), jobContainer.path("image"), "the overlay's image reaches the Job");
        Map<String, String> jobEnvironment = new HashMap<>(Overlays.productionWithJobs().environment(jobContainer));
        // The one difference: a Job's pod ends when its work is done, a Deployment's runs on.
        String idle = jobEnvironment.remove("MODELPRESS_EXIT_WHEN_IDLE");
        assertTrue(idle != null && Durations.parse(idle).toSeconds() > 0, "the Job's pod exits when idle: " + idle);
        assertTrue(Durations.parse(idle).toSeconds()
                < job.path("spec").path("jobTargetRef").path("activeDeadlineSeconds").asLong(),
                "the deadline stays a backstop above the idle exit");
        assertEquals(Overlays.production().environment(deployed), jobEnvironment);
        assertFalse(Overlays.production().environment(deployed).containsKey("MODELPRESS_EXIT_WHEN_IDLE"),
                "the Deployment's replicas run until KEDA scales them in");
        assertEquals(set(deployed.path("volumeMounts")), set(jobContainer.path("volumeMounts")));
        assertEquals(deployed.path("resources"), jobContainer.path("resources"));
        assertEquals(List.of(), Overlays.productionWithJobs().ofKind("ScaledObject"));
        assertTrue(Overlays.productionWithJobs().find("Deployment", "modelpress-compressor").isEmpty());
        assertTrue(job.path("spec").path("jobTargetRef").path("activeDeadlineSeconds").asLong()
                > Manifests.podSpec(job).path("terminationGracePeriodSeconds").asLong());
    }

    private static java.util.Set<JsonNode> set(JsonNode array) {
        java.util.Set<JsonNode> set = new java.util.HashSet<>();
        array.forEach(set::add);
        return set;
    }

    private static JsonNode scaler(Manifests overlay) {
        return overlay.find("ScaledObject", "modelpress-compressor")
                .or(() -> overlay.find("ScaledJob", "modelpress-compressor"))
                .orElseThrow(() -> new AssertionError(overlay.source() + " does not scale the compressor"));
    }
}

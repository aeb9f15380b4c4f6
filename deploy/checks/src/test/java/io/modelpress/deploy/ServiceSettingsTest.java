package io.modelpress.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelpress.compressor.CompressorConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every setting the rendered manifests pass is one the service reads, and reads to the intended value. */
class ServiceSettingsTest {

    static Stream<Manifests> overlays() {
        return Stream.of(Overlays.all());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("overlays")
    void theCompressorReadsEverySettingItIsGiven(Manifests overlay) throws Exception {
        JsonNode container = Manifests.podSpec(WorkloadTest.compressor(overlay)).path("containers").path(0);
        List<String> unread = new ArrayList<>();
        for (String variable : overlay.environment(container).keySet()) {
            if (ServiceSettings.compressorReads(variable).isEmpty()) {
                unread.add(variable);
            }
        }
        assertEquals(List.of(), unread, overlay.source() + ": settings the compressor does not read");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("overlays")
    void theBridgeAndTheDashboardAreGivenOnlySettingsTheyRead(Manifests overlay) {
        for (String name : List.of("modelpress-registry-bridge", "modelpress-dashboard")) {
            JsonNode container = Manifests.podSpec(overlay.workload(name)).path("containers").path(0);
            Map<String, String> environment = overlay.environment(container);
            List<String> other = environment.keySet().stream().filter(v -> !ServiceSettings.commonSetting(v)
                    && !(name.equals("modelpress-registry-bridge") && ServiceSettings.bridgeReads(v))).sorted().toList();
            assertEquals(List.of(), other, overlay.source() + " " + name);
            assertTrue(environment.containsKey("KAFKA_BOOTSTRAP_SERVERS"), name);
            assertTrue(environment.keySet().containsAll(ServiceSettings.COMMON_S3.stream()
                    .filter(s -> !s.equals("MODELPRESS_S3_REGION")).toList()), name + " " + environment.keySet());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("overlays")
    void theCompressorsConfigurationLoadsWithTheIntendedValues(Manifests overlay) throws Exception {
        JsonNode compressor = WorkloadTest.compressor(overlay);
        Map<String, String> environment = new HashMap<>(overlay.environment(Manifests.podSpec(compressor)
                .path("containers").path(0)));
        environment.replaceAll((k, v) -> v == null ? "from-a-secret" : v);
        CompressorConfig config = ServiceSettings.compressorConfig(environment);

        assertEquals(Path.of("/work"), config.workDir());
        assertEquals("modelpress.model-registered", config.topics().modelRegistered());
        assertEquals("modelpress-compressor", config.consumerGroup());
        assertEquals(1, config.maxInFlight(), "one model at a time per pod: KEDA adds pods instead");
        assertTrue(config.defaultProfiles().contains("x86-vnni"), config.defaultProfiles().toString());
        assertEquals(config.jobTimeout(), config.shutdownGrace(), "a pod scaled in finishes its model");
        assertTrue(Duration.ofMillis(config.maxRecordAgeMs()).compareTo(config.jobTimeout().multipliedBy(2)) >= 0,
                "a record waits behind one in flight without the consumer being declared stuck");
        assertFalse(config.s3().endpoint().isBlank());
        if (overlay == Overlays.local()) {
            assertEquals("http://minio:9000", config.s3().endpoint());
            assertEquals("modelpress-secret", config.s3().secretKey());
        } else {
            assertTrue(config.s3().endpoint().startsWith("https://"), config.s3().endpoint());
            assertEquals("SASL_SSL", environment.get("KAFKA_SECURITY_PROTOCOL"));
            assertEquals(Optional.of("SASL_SSL"), config.kafka().securityProtocol());
            assertEquals(Optional.of("modelpress-compressor"), config.kafka().sasl().username());
            String password = config.kafka().sasl().password().orElseThrow();
            assertTrue(password.contains("secretKeyRef") && password.contains("\"key\":\"password\""),
                    "the password from the KafkaUser's Secret: " + password);
            assertEquals(Optional.of(Path.of("/etc/modelpress/kafka-ca/ca.crt")), config.kafka().truststore());
        }
    }

    /** The check itself: a misspelt or unknown variable is refused, real ones of every kind are accepted. */
    @Test
    void theListOfReadSettingsRefusesWhatNothingReads() throws Exception {
        assertTrue(ServiceSettings.compressorReads("MODELPRESS_MAX_IN_FLIGHT").isPresent());
        assertTrue(ServiceSettings.compressorReads("MODELPRESS_BENCHMARK_ITERATIONS").isPresent());
        assertTrue(ServiceSettings.compressorReads("MODELPRESS_DEFAULT_CHAIN__X86_VNNI_").isPresent());
        assertTrue(ServiceSettings.compressorReads("QUARKUS_SHUTDOWN_TIMEOUT").isPresent());
        assertTrue(ServiceSettings.compressorReads("KAFKA_SASL_JAAS_CONFIG").isPresent());
        assertFalse(ServiceSettings.compressorReads("MODELPRESS_MAX_IN_FLIGT").isPresent());
        assertFalse(ServiceSettings.compressorReads("MODELPRESS_PLANNER_TIMELIMIT").isPresent());
        assertFalse(ServiceSettings.compressorReads("KAFKA_SASL_JAAS").isPresent());
        assertTrue(ServiceSettings.compressorReads("MODELPRESS_KAFKA_SASL_PASSWORD").isPresent());
        assertTrue(ServiceSettings.compressorReads("MODELPRESS_FAULTS_BACKOFF_MAX_DELAY").isPresent());
        assertTrue(ServiceSettings.compressorReads("MODELPRESS_S3_CA_FILE").isPresent());
        assertFalse(ServiceSettings.compressorReads("MODELPRESS_KAFKA_SASL").isPresent());
        assertFalse(ServiceSettings.commonSetting("MODELPRESS_MAX_IN_FLIGHT"));
    }
}

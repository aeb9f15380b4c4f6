package io.modelpress.compressor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.modelpress.engine.ChainStep;
import io.modelpress.engine.job.PlanChoice;
import io.modelpress.engine.profile.HardwareProfiles;
import io.modelpress.spi.HardwareProfile;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The settings README.md documents, given as environment variables the way a container gets them. */
class ConfigurationTest {

    @Test
    void environmentVariablesOverrideTheDefaultsIncludingAChainPinnedPerProfile() throws IOException {
        Map<String, String> environment = new HashMap<>(REQUIRED);
        environment.putAll(Map.of(
                "MODELPRESS_DEFAULT_CHAIN__X86_VNNI_", "graph-cleanup int8-dynamic:per-channel=false",
                "MODELPRESS_PLANNER_TIME_LIMIT", "90s",
                "MODELPRESS_DEFAULT_PROFILES", "x86-vnni,arm64-edge",
                "MODELPRESS_MAX_IN_FLIGHT", "2"));
        CompressorConfig config = configWith(environment);
        assertEquals(Duration.ofSeconds(90), config.planner().timeLimit());
        assertEquals(List.of("x86-vnni", "arm64-edge"), config.defaultProfiles());
        assertEquals(2, config.maxInFlight());

        ChainChooser chooser = new ChainChooser(config);
        PlanChoice pinned = chooser.choose(registered(List.of()), profile("x86-vnni"));
        assertEquals(PlanChoice.CONFIGURATION, pinned.by());
        assertEquals(List.of(ChainStep.parse("graph-cleanup"), ChainStep.parse("int8-dynamic:per-channel=false")),
                pinned.chain());
    }

    @Test
    void withoutAChainThePlannerSearchesUnderTheProfilesBudgetAndTheEventsChainComesFirst() throws IOException {
        Map<String, String> environment = new HashMap<>(REQUIRED);
        environment.put("MODELPRESS_DEFAULT_CHAIN__X86_VNNI_", "graph-cleanup");
        CompressorConfig config = configWith(environment);
        ChainChooser chooser = new ChainChooser(config);
        HardwareProfile edge = profile("arm64-edge");

        PlanChoice planned = chooser.choose(registered(List.of()), edge);
        assertTrue(planned.planned());
        assertEquals(edge.maxAccuracyDrop(), planned.budget().orElseThrow().maxAccuracyDrop());
        assertEquals(edge.sizeBudgetBytes(), planned.budget().orElseThrow().maxBytes());
        assertEquals(Duration.ofMinutes(10), planned.budget().orElseThrow().timeLimit(), "the default time limit");

        PlanChoice named = chooser.choose(registered(List.of("fp16")), profile("x86-vnni"));
        assertEquals(PlanChoice.EVENT, named.by(), "the event's chain wins over the pinned one");
        assertEquals(List.of(ChainStep.parse("fp16")), named.chain());
        assertFalse(named.planned());
    }

    @Test
    void theKubernetesAndComposeSettingsAreOnesTheServiceReads() throws IOException {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        // The Kubernetes base's settings (deploy/checks checks the rendered overlays in full).
        Map<String, String> kubernetes = new HashMap<>();
        for (String line : Files.readAllLines(Path.of("../../deploy/base/compressor/settings.env"))) {
            if (!line.isBlank() && !line.startsWith("#")) {
                kubernetes.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
            }
        }
        kubernetes.put("MODELPRESS_S3_ACCESS_KEY", "from-a-secret");
        kubernetes.put("MODELPRESS_S3_SECRET_KEY", "from-a-secret");
        CompressorConfig deployed = configWith(kubernetes);
        assertEquals(List.of("x86-vnni", "arm64-edge"), deployed.defaultProfiles());
        assertEquals(Duration.ofMinutes(10), deployed.planner().timeLimit());
        assertEquals(Duration.ofMinutes(30), deployed.shutdownGrace());
        assertEquals(deployed.jobTimeout(), deployed.shutdownGrace(), "a pod scaled in finishes its model");
        assertEquals(Path.of("/work"), deployed.workDir());
        assertEquals(kubernetes.get("MODELPRESS_S3_ENDPOINT"), deployed.s3().endpoint());
        assertEquals("from-a-secret", deployed.s3().secretKey());
        assertEquals(Long.parseLong(kubernetes.get("MODELPRESS_MAX_RECORD_AGE_MS")), deployed.maxRecordAgeMs());

        JsonNode compose = yaml.readTree(Path.of("../../docker-compose.yml").toFile()).path("services").path("compressor");
        Map<String, String> environment = new HashMap<>();
        compose.path("environment").fields().forEachRemaining(entry -> environment.put(entry.getKey(), entry.getValue().asText()));
        CompressorConfig composed = configWith(environment);
        assertEquals("http://minio:9000", composed.s3().endpoint());
        assertEquals(List.of("x86-vnni"), composed.defaultProfiles());
        assertTrue(environment.get("KAFKA_BOOTSTRAP_SERVERS").startsWith("kafka:"), "the broker's in-network listener");
    }

    @Test
    void withoutCredentialsOrAnAllowListTheServiceDoesNotStartAndSaysWhatIsMissing() throws IOException {
        Map<String, String> complete = Map.of("MODELPRESS_INPUTS_ALLOWED", "models/registry/",
                "MODELPRESS_S3_ACCESS_KEY", "key", "MODELPRESS_S3_SECRET_KEY", "secret");
        assertEquals(List.of("models/registry/"), configWith(complete).inputs().allowed());
        for (String missing : complete.keySet()) {
            Map<String, String> without = new HashMap<>(complete);
            without.remove(missing);
            RuntimeException refused = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class,
                    () -> configWith(without));
            String property = missing.toLowerCase(java.util.Locale.ROOT).replace("modelpress_", "modelpress.")
                    .replace("inputs_", "inputs.").replace("s3_", "s3.").replace('_', '-');
            assertTrue(refused.getMessage().contains(property), () -> "names " + property + ": " + refused.getMessage());
        }
    }

    /** What every deployment must give: there are no defaults for these outside dev and test. */
    private static final Map<String, String> REQUIRED = Map.of("MODELPRESS_INPUTS_ALLOWED", "models",
            "MODELPRESS_S3_ACCESS_KEY", "key", "MODELPRESS_S3_SECRET_KEY", "secret");

    @Test
    void handOverSettingsReachTheInputChannelFromEnvironmentVariables() throws IOException {
        String channel = "mp.messaging.incoming.model-registered.";
        SmallRyeConfig defaults = smallRyeConfig(REQUIRED);
        assertEquals("8000", defaults.getValue(channel + "session.timeout.ms", String.class));
        assertEquals("org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
                defaults.getValue(channel + "partition.assignment.strategy", String.class));
        assertEquals(Optional.empty(), defaults.getOptionalValue(channel + "group.instance.id", String.class),
                "dynamic membership unless an instance id is given");
        assertEquals(6, defaults.getConfigMapping(CompressorConfig.class).topics().partitions());

        Map<String, String> environment = new HashMap<>(REQUIRED);
        environment.putAll(Map.of("MODELPRESS_INSTANCE_ID", "compressor-2",
                "MODELPRESS_KAFKA_SESSION_TIMEOUT_MS", "7000", "MODELPRESS_KAFKA_HEARTBEAT_INTERVAL_MS", "1500",
                "MODELPRESS_TOPICS_PARTITIONS", "12", "MODELPRESS_TOPICS_RETENTION", "7d"));
        SmallRyeConfig set = smallRyeConfig(environment);
        assertEquals("compressor-2", set.getValue(channel + "group.instance.id", String.class));
        assertEquals("compressor-2", set.getValue(channel + "client.id", String.class));
        assertEquals("7000", set.getValue(channel + "session.timeout.ms", String.class));
        assertEquals("1500", set.getValue(channel + "heartbeat.interval.ms", String.class));
        CompressorConfig config = set.getConfigMapping(CompressorConfig.class);
        assertEquals(12, config.topics().partitions());
        assertEquals(Optional.of(Duration.ofDays(7)), config.topics().retention());
        assertEquals(Optional.of("compressor-2"), config.instanceId());
    }

    @Test
    void theIdleExitIsOffUnlessSet() throws IOException {
        assertEquals(Optional.empty(), configWith(REQUIRED).exitWhenIdle(), "a Deployment's replicas never exit by themselves");

        Map<String, String> environment = new HashMap<>(REQUIRED);
        environment.put("MODELPRESS_EXIT_WHEN_IDLE", "60s");
        assertEquals(Optional.of(Duration.ofSeconds(60)), configWith(environment).exitWhenIdle());
    }

    /** The retry library checks these only inside the first call: the service checks them when it starts. */
    @Test
    void backoffSettingsThatContradictEachOtherAreRefusedWithTheirNames() throws IOException {
        Backoff.check(configWith(REQUIRED).faults().backoff()); // the defaults agree

        Map<String, String> environment = new HashMap<>(REQUIRED);
        environment.put("MODELPRESS_FAULTS_BACKOFF_DELAY", "10s");
        IllegalStateException delay = assertThrows(IllegalStateException.class,
                () -> Backoff.check(configWith(environment).faults().backoff()));
        assertEquals("MODELPRESS_FAULTS_BACKOFF_DELAY (PT10S) must be shorter than MODELPRESS_FAULTS_BACKOFF_MAX_DELAY"
                + " (PT10S)", delay.getMessage());

        environment.put("MODELPRESS_FAULTS_BACKOFF_MAX_DELAY", "2m");
        environment.put("MODELPRESS_FAULTS_BACKOFF_MAX_DURATION", "5s");
        IllegalStateException duration = assertThrows(IllegalStateException.class,
                () -> Backoff.check(configWith(environment).faults().backoff()));
        assertTrue(duration.getMessage().startsWith("MODELPRESS_FAULTS_BACKOFF_DELAY (PT10S) must be shorter than"
                + " MODELPRESS_FAULTS_BACKOFF_MAX_DURATION"), duration.getMessage());
    }

    /** The connector's retry consumer is built from the input's settings: it must not become a static member. */
    @Test
    void theDelayedRetryConsumerNeverSharesTheStaticInstanceId() {
        RetryConsumerMembership membership = new RetryConsumerMembership();
        Map<String, Object> main = Map.of("client.id", "compressor-2", "group.instance.id", "compressor-2",
                "group.id", "modelpress-compressor");
        assertEquals(main, membership.customize("model-registered", null, main));
        Map<String, Object> retry = Map.of("client.id", RetryConsumerMembership.RETRY_CLIENT_PREFIX + "compressor-2",
                "group.instance.id", "compressor-2", "group.id", "modelpress-compressor");
        assertEquals(Map.of("client.id", RetryConsumerMembership.RETRY_CLIENT_PREFIX + "compressor-2",
                "group.id", "modelpress-compressor"), membership.customize("model-registered", null, retry));
    }

    @Test
    void pluginAllowListAndStepLimitsComeFromEnvironmentVariables() throws IOException {
        Path plugins = Files.createTempDirectory("modelpress-config-plugins-");
        try {
            Path vetted = TestPluginJars.write(plugins.resolve("vetted.jar"),
                    List.of(io.modelpress.compressor.testplugins.JarOnlyPlugin.class));
            Path listedInFile = Files.copy(vetted, plugins.resolve("listed-in-file.jar"));
            TestPluginJars.write(plugins.resolve("unlisted.jar"), List.of(io.modelpress.compressor.testplugins.JarOnlyPlugin.class));
            Path file = Files.writeString(plugins.resolve("allowed.txt"), "# vetted\n"
                    + TestPluginJars.sha256(listedInFile) + "  listed-in-file.jar\n");
            Map<String, String> environment = new HashMap<>(REQUIRED);
            environment.putAll(Map.of("MODELPRESS_PLUGINS_DIR", plugins.toString(),
                    "MODELPRESS_PLUGINS_ALLOWED", "vetted.jar:" + TestPluginJars.sha256(vetted),
                    "MODELPRESS_PLUGINS_ALLOWED_FILE", file.toString(),
                    "MODELPRESS_STEP_TIME_LIMIT", "5m",
                    "MODELPRESS_STEP_TIME_LIMITS__X86_VNNI_", "20m",
                    "MODELPRESS_STEP_CANCEL_GRACE", "2s"));
            EngineSetup setup = new EngineSetup(configWith(environment));
            // Jars load in name order: the one the file allows first, the one the variable allows is then a duplicate.
            assertEquals(Optional.of(plugins.resolve("listed-in-file.jar")),
                    setup.plugins().require("test-jar-only").source().jar(), "the jar the allow-list file names loaded");
            List<String> refused = setup.plugins().rejected().stream().map(Object::toString).toList();
            assertEquals(2, refused.size(), refused::toString);
            assertTrue(refused.get(0).startsWith("jar unlisted.jar: not in the plugin allow-list"), refused::toString);
            assertTrue(refused.get(1).startsWith("jar vetted.jar: plugin id 'test-jar-only' is already provided"
                    + " by jar listed-in-file.jar"), "past the allow-list variable, refused as a duplicate: " + refused);
            assertEquals(new io.modelpress.engine.StepLimit(Duration.ofMinutes(20), Duration.ofSeconds(2)),
                    setup.stepLimit("x86-vnni"));
            assertEquals(new io.modelpress.engine.StepLimit(Duration.ofMinutes(5), Duration.ofSeconds(2)),
                    setup.stepLimit("wasm"));

            EngineSetup defaults = new EngineSetup(configWith(REQUIRED));
            assertEquals(new io.modelpress.engine.StepLimit(Duration.ofMinutes(15), Duration.ofSeconds(10)),
                    defaults.stepLimit("x86-vnni"), "half the job's 30 minutes");
        } finally {
            try (java.util.stream.Stream<Path> files = Files.walk(plugins)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
    }

    private static CompressorConfig configWith(Map<String, String> environment) throws IOException {
        return smallRyeConfig(environment).getConfigMapping(CompressorConfig.class);
    }

    private static SmallRyeConfig smallRyeConfig(Map<String, String> environment) throws IOException {
        URL properties = ConfigurationTest.class.getClassLoader().getResource("application.properties");
        return new SmallRyeConfigBuilder()
                .addDefaultInterceptors() // ${...} expressions, as Quarkus resolves them
                .addSystemSources()
                .withSources(new PropertiesConfigSource(properties, 250))
                .withSources(new EnvConfigSource(environment, 300))
                .withConverter(Duration.class, 100, new DurationConverter()) // Quarkus' form: 90s, 10m
                .withMapping(CompressorConfig.class)
                .build();
    }

    private static RegisteredModel registered(List<String> chain) {
        return new RegisteredModel("config/model", "1", "s3://models/config/model.onnx", Optional.empty(), null,
                List.of(), Optional.empty(), Optional.empty(), Optional.empty(), Map.of(), chain);
    }

    private static HardwareProfile profile(String id) {
        return HardwareProfiles.builtIn().find(id).orElseThrow();
    }
}

package io.modelpress.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.net.URL;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** docker-compose.yml's bridge and MLflow settings mean what they say: a misspelt variable would be ignored. */
class ComposeConfigurationTest {

    private final ObjectMapper yaml = new ObjectMapper(new YAMLFactory());

    @Test
    void theComposedBridgeTalksToTheComposedServers() throws Exception {
        JsonNode services = yaml.readTree(Path.of("../../docker-compose.yml").toFile()).path("services");
        Map<String, String> environment = new HashMap<>();
        services.path("bridge").path("environment").fields()
                .forEachRemaining(entry -> environment.put(entry.getKey(), entry.getValue().asText()));
        URL properties = getClass().getClassLoader().getResource("application.properties");
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withSources(new PropertiesConfigSource(properties, 250))
                .withSources(new EnvConfigSource(environment, 300))
                .withConverter(Duration.class, 100, new DurationConverter())
                .withMapping(BridgeConfig.class)
                .build();
        BridgeConfig bridge = config.getConfigMapping(BridgeConfig.class);
        assertEquals("http://minio:9000", bridge.s3().endpoint());
        assertEquals("models", bridge.bucket());
        assertEquals("http://mlflow:5000", bridge.mlflow().url().orElseThrow());
        assertTrue(bridge.webhook().secret().isPresent(), "the webhook secret is set");
        assertEquals(List.of("x86-vnni"), bridge.defaultProfiles().orElseThrow());
        assertEquals("kafka:29092", config.getValue("kafka.bootstrap.servers", String.class));

        // MLflow may call the bridge: plain http on the compose network, private addresses allowed
        JsonNode mlflow = services.path("mlflow").path("environment");
        assertTrue(mlflow.path("MLFLOW_WEBHOOK_ALLOWED_SCHEMES").asText().contains("http"));
        assertEquals("true", mlflow.path("MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS").asText());
        assertTrue(services.path("mlflow-webhook").path("entrypoint").toString().contains("http://bridge:8081/hooks/mlflow"));
        assertTrue(services.path("bridge").path("ports").get(0).asText().endsWith(":8081"));
    }
}

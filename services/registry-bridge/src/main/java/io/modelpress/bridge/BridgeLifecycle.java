package io.modelpress.bridge;

import io.modelpress.bridge.registry.Bridge;
import io.modelpress.bridge.registry.BridgeSettings;
import io.modelpress.bridge.registry.KafkaEventSink;
import io.modelpress.bridge.registry.MlflowClient;
import io.modelpress.bridge.registry.ObjectStore;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.net.URI;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jboss.logging.Logger;

/** Builds the bridge library from configuration, starts it with the application and closes it at the end. */
@ApplicationScoped
public class BridgeLifecycle {

    private static final Logger LOG = Logger.getLogger(BridgeLifecycle.class);

    private Bridge bridge;

    @Produces
    @Singleton
    ObjectStore store(BridgeConfig config) {
        return new ObjectStore(config.s3().endpoint(), config.s3().accessKey(), config.s3().secretKey(),
                config.s3().region(), config.s3().caFile(), config.s3().trustJdkCas());
    }

    @Produces
    @Singleton
    Bridge bridge(BridgeConfig config, ObjectStore store,
            @Identifier("default-kafka-broker") Map<String, Object> kafka) {
        BridgeSettings settings = new BridgeSettings(config.dataDir(), config.bucket(), config.copyPrefix(),
                config.maxModelBytes(), config.defaultProfiles().orElse(List.of()), config.webhook().secret(),
                config.webhook().tolerance(), config.webhook().triggerTag(), config.webhook().triggerAlias(),
                config.pendingPoll(), config.pendingTimeout(), config.maxAttempts(), config.registerCompressed(),
                config.eventSource(), config.topic());
        Optional<MlflowClient> mlflow = config.mlflow().url().filter(u -> !u.isBlank())
                .map(url -> new MlflowClient(URI.create(url), config.mlflow().token(), config.mlflow().timeout()));
        bridge = new Bridge(settings, mlflow, store, new KafkaEventSink(kafka, config.topic(),
                config.eventSource(), config.publishTimeout()), Clock.systemUTC());
        if (settings.webhookSecret().isEmpty()) {
            LOG.warn("no webhook secret is set (MODELPRESS_BRIDGE_WEBHOOK_SECRET): unsigned MLflow deliveries are accepted");
        }
        return bridge;
    }

    void start(@Observes StartupEvent event, Bridge bridge, ObjectStore store, BridgeConfig config) {
        try {
            store.ensureBucket(config.bucket());
        } catch (RuntimeException e) {
            LOG.warnf("cannot make sure bucket %s exists yet: %s", config.bucket(), e.getMessage());
        }
        bridge.start();
    }

    void stop(@Observes ShutdownEvent event) {
        if (bridge != null) {
            bridge.close();
        }
    }
}

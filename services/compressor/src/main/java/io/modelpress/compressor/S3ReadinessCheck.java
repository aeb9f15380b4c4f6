package io.modelpress.compressor;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready when S3 answers with these credentials. Kafka's readiness comes from the messaging extension. */
@Readiness
@ApplicationScoped
public class S3ReadinessCheck implements HealthCheck {

    private final ObjectStore store;
    private final CompressorConfig config;

    @Inject
    public S3ReadinessCheck(ObjectStore store, CompressorConfig config) {
        this.store = store;
        this.config = config;
    }

    @Override
    public HealthCheckResponse call() {
        try {
            store.ping();
            return HealthCheckResponse.named("s3").up().withData("endpoint", config.s3().endpoint()).build();
        } catch (Exception e) {
            JobFailure failure = ObjectStore.failure(Stage.DOWNLOAD, "S3", e);
            return HealthCheckResponse.named("s3").down().withData("endpoint", config.s3().endpoint())
                    .withData("error", failure.getMessage())
                    .withData("transient", failure.retryable()).build();
        }
    }
}

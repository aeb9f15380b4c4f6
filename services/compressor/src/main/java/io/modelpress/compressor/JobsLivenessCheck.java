package io.modelpress.compressor;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/**
 * Says what the job side of the service is doing, beside the messaging extension's own check of
 * the Kafka consumer: models in flight and the limits that end a job in a failure event.
 */
@Liveness
@ApplicationScoped
public class JobsLivenessCheck implements HealthCheck {

    private final ModelRegisteredConsumer consumer;
    private final CompressorConfig config;

    @Inject
    public JobsLivenessCheck(ModelRegisteredConsumer consumer, CompressorConfig config) {
        this.consumer = consumer;
        this.config = config;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("compressor-jobs").up()
                .withData("inFlight", consumer.inFlight())
                .withData("maxInFlight", config.maxInFlight())
                .withData("jobTimeout", config.jobTimeout().toString())
                .withData("maxCrashesPerRecord", config.faults().maxCrashes())
                .withData("redeliveries", config.faults().redeliveries())
                .build();
    }
}

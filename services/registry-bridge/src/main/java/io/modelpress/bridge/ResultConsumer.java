package io.modelpress.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelpress.bridge.registry.Bridge;
import io.modelpress.bridge.registry.Json;
import io.modelpress.bridge.registry.RegistryException;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.util.function.Consumer;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * The compressor's result and failure events, written back to the status and to MLflow. A registry that
 * is briefly unreachable is retried in place; a record that cannot be written back is logged and
 * skipped, so one bad record never stops the consumer.
 */
@ApplicationScoped
public class ResultConsumer {

    private static final Logger LOG = Logger.getLogger(ResultConsumer.class);
    private static final int ATTEMPTS = 5;

    @Inject
    Bridge bridge;

    @Incoming("compression-results")
    @Blocking
    public void result(String value) {
        handle("result", value, bridge.results()::onResult);
    }

    @Incoming("failures")
    @Blocking
    public void failure(String value) {
        handle("failure", value, bridge.results()::onFailure);
    }

    private void handle(String kind, String value, Consumer<JsonNode> writer) {
        JsonNode data;
        try {
            data = Json.mapper().readTree(value == null ? "" : value);
        } catch (IOException e) {
            LOG.warnf("skipping a %s record that is not JSON: %s", kind, e.getMessage());
            return;
        }
        if (data == null || !data.isObject()) {
            LOG.warnf("skipping a %s record that is not a JSON object", kind);
            return;
        }
        for (int attempt = 1; ; attempt++) {
            try {
                writer.accept(data);
                return;
            } catch (RegistryException e) {
                if (!e.retryable() || attempt >= ATTEMPTS) {
                    LOG.errorf("cannot write back the %s for %s/%s: %s", kind, data.path("modelId").asText(),
                            data.path("version").asText(), e.getMessage());
                    return;
                }
                sleep(1000L << attempt);
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException("interrupted", true, e);
        }
    }
}

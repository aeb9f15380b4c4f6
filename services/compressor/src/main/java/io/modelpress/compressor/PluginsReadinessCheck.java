package io.modelpress.compressor;

import io.modelpress.engine.plugin.LoadedPlugin;
import io.modelpress.engine.plugin.RejectedPlugin;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.stream.Collectors;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * The plugins this instance runs and the jars it refused, with why. Always UP: a refused jar leaves
 * the built-in plugins working; an event naming one of its plugins fails with the list of those there are.
 */
@Readiness
@ApplicationScoped
public class PluginsReadinessCheck implements HealthCheck {

    private final EngineSetup setup;

    @Inject
    public PluginsReadinessCheck(EngineSetup setup) {
        this.setup = setup;
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("plugins").up()
                .withData("loaded", setup.plugins().all().stream().map(LoadedPlugin::id).collect(Collectors.joining(", ")))
                .withData("refused", setup.plugins().rejected().size());
        int index = 1;
        for (RejectedPlugin rejected : setup.plugins().rejected()) {
            response.withData("refused-" + index++, rejected.toString());
        }
        return response.build();
    }
}

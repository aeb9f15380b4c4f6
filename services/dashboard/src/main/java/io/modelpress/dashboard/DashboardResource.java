package io.modelpress.dashboard;

import io.smallrye.mutiny.Multi;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.resteasy.reactive.RestStreamElementType;

/** The page's data: the whole view at once, and the same view again as server-sent events whenever it changes. */
@Path("/api")
public class DashboardResource {

    /** The view is resent this often even unchanged: the page learns that the connection is alive. */
    private static final long HEARTBEAT_TICKS = 20;

    private final DashboardState state;
    private final Duration interval;

    @Inject
    public DashboardResource(DashboardState state,
            @ConfigProperty(name = "modelpress.dashboard.push-interval-ms", defaultValue = "500") long intervalMillis) {
        this.state = state;
        this.interval = Duration.ofMillis(intervalMillis);
    }

    @GET
    @Path("/state")
    @Produces(MediaType.APPLICATION_JSON)
    public DashboardView view() {
        return state.view();
    }

    /**
     * Server-sent events: the view now, then whenever it changed (at most once per push interval, so
     * a burst of events costs one message), and every few seconds as a heartbeat.
     */
    @GET
    @Path("/stream")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @RestStreamElementType(MediaType.APPLICATION_JSON)
    public Multi<DashboardView> stream() {
        AtomicLong sent = new AtomicLong(-1);
        AtomicLong quiet = new AtomicLong();
        return Multi.createFrom().ticks().every(interval)
                .filter(tick -> {
                    long version = state.version();
                    if (version != sent.get() || quiet.incrementAndGet() >= HEARTBEAT_TICKS) {
                        sent.set(version);
                        quiet.set(0);
                        return true;
                    }
                    return false;
                })
                .map(tick -> state.view());
    }
}

package io.modelpress.dashboard;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Asks the broker every few seconds whether it answers, so that the page can say so when it does
 * not (consumers only retry quietly). What was read before stays on the page.
 */
@ApplicationScoped
public class BrokerWatch {

    private final DashboardState state;
    /** The shared Kafka client settings (bootstrap servers and security), as the channels get them. */
    private final Map<String, Object> kafka;
    private final long intervalMillis;
    private ScheduledExecutorService timer;
    private Admin admin;

    public BrokerWatch(DashboardState state, @Identifier("default-kafka-broker") Map<String, Object> kafka,
            @ConfigProperty(name = "modelpress.dashboard.broker-check-interval-ms", defaultValue = "3000") long intervalMillis) {
        this.state = state;
        this.kafka = Map.copyOf(kafka);
        this.intervalMillis = intervalMillis;
    }

    void start(@Observes StartupEvent started) {
        Map<String, Object> settings = new HashMap<>();
        kafka.forEach((key, value) -> {
            if (AdminClientConfig.configNames().contains(key)) {
                settings.put(key, value);
            }
        });
        settings.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.max(1000, intervalMillis));
        settings.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) Math.max(1000, intervalMillis));
        settings.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
        admin = Admin.create(settings);
        timer = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "broker-watch");
            thread.setDaemon(true);
            return thread;
        });
        timer.scheduleWithFixedDelay(this::check, 0, intervalMillis, TimeUnit.MILLISECONDS);
    }

    void stop(@Observes ShutdownEvent stopping) {
        if (timer != null) {
            timer.shutdownNow();
        }
        if (admin != null) {
            admin.close(java.time.Duration.ofSeconds(2));
        }
    }

    private void check() {
        try {
            admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) Math.max(1000, intervalMillis)))
                    .clusterId().get(intervalMillis + 1000, TimeUnit.MILLISECONDS);
            state.broker(true, null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            state.broker(false, "no answer from " + kafka.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG) + ": " + cause.getClass().getSimpleName()
                    + (cause.getMessage() == null ? "" : " " + cause.getMessage()));
        }
    }
}

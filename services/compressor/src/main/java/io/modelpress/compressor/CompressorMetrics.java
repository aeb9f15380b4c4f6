package io.modelpress.compressor;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The service's Prometheus metrics (at /q/metrics), all named modelpress_*. Created at start, so
 * every series is there at zero before the first event.
 */
@ApplicationScoped
@Startup
public class CompressorMetrics {

    private final MeterRegistry registry;
    private final Counter received;
    private final Counter compressions;
    private final Counter replayed;
    private final Counter bytesIn;
    private final Counter bytesOut;
    private final AtomicInteger inFlight = new AtomicInteger();

    @Inject
    public CompressorMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.received = Counter.builder("modelpress.events.received").description("model-registered events received")
                .register(registry);
        this.compressions = Counter.builder("modelpress.compressions").description("profiles compressed (engine runs)")
                .register(registry);
        this.replayed = Counter.builder("modelpress.results.replayed")
                .description("results answered from storage without recomputing").register(registry);
        this.bytesIn = Counter.builder("modelpress.bytes.downloaded").baseUnit("bytes")
                .description("artifact bytes fetched from S3").register(registry);
        this.bytesOut = Counter.builder("modelpress.bytes.uploaded").baseUnit("bytes")
                .description("compressed artifact bytes stored in S3").register(registry);
        registry.gauge("modelpress.models.in.flight", inFlight);
        // Every series from the start, at zero: a dashboard's rate() needs the first sample.
        for (Topic topic : Topic.values()) {
            published(topic, 0);
        }
        for (Stage stage : Stage.values()) {
            failed(stage, 0);
        }
    }

    public void received() {
        received.increment();
    }

    public void published(Topic topic) {
        published(topic, 1);
    }

    public void failed(Stage stage) {
        failed(stage, 1);
    }

    private void published(Topic topic, int count) {
        Counter.builder("modelpress.events.published").description("events published, by topic")
                .tag("topic", topic.channel()).register(registry).increment(count);
    }

    private void failed(Stage stage, int count) {
        Counter.builder("modelpress.events.failed").description("failure events published, by stage")
                .tag("stage", stage.label()).register(registry).increment(count);
    }

    public void compressed(String profile, String outcome, Duration time) {
        if (outcome.equals("done")) {
            compressions.increment();
        }
        Timer.builder("modelpress.compression.time").description("engine time per profile")
                .tags("profile", profile, "outcome", outcome).register(registry).record(time);
    }

    public void replayed() {
        replayed.increment();
    }

    public double compressions() {
        return compressions.count();
    }

    public double replays() {
        return replayed.count();
    }

    public void downloaded(long bytes) {
        bytesIn.increment(bytes);
    }

    public void uploaded(long bytes) {
        bytesOut.increment(bytes);
    }

    public void modelStarted() {
        inFlight.incrementAndGet();
    }

    public void modelFinished(Duration time, String outcome) {
        inFlight.decrementAndGet();
        Timer.builder("modelpress.model.time").description("wall time per registered model, all profiles")
                .tags("outcome", outcome).register(registry).record(time);
    }
}

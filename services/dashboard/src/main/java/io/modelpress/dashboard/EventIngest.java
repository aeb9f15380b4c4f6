package io.modelpress.dashboard;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * The four topics in. A record that cannot be read is skipped, counted (on the page and as
 * {@code modelpress_dashboard_events_skipped_total}) and logged with its position; it never stops a consumer.
 */
@ApplicationScoped
@Startup // its counters exist from the start, at zero: a dashboard's rate() needs the first sample
public class EventIngest {

    private static final Logger LOG = Logger.getLogger(EventIngest.class);

    private final DashboardState state;
    private final EventReader reader;
    private final MeterRegistry registry;

    @Inject
    public EventIngest(DashboardState state, ObjectMapper json, MeterRegistry registry) {
        this.state = state;
        this.reader = new EventReader(json);
        this.registry = registry;
        for (EventKind kind : EventKind.values()) {
            counter("modelpress.dashboard.events.read", kind);
            counter("modelpress.dashboard.events.skipped", kind);
        }
    }

    @Incoming("compression-results")
    public void result(ConsumerRecord<String, byte[]> record) {
        take(EventKind.RESULT, record);
    }

    @Incoming("benchmarks")
    public void benchmark(ConsumerRecord<String, byte[]> record) {
        take(EventKind.BENCHMARK, record);
    }

    @Incoming("progress")
    public void progress(ConsumerRecord<String, byte[]> record) {
        take(EventKind.PROGRESS, record);
    }

    @Incoming("failures")
    public void failure(ConsumerRecord<String, byte[]> record) {
        take(EventKind.FAILURE, record);
    }

    private void take(EventKind kind, ConsumerRecord<String, byte[]> record) {
        try {
            state.apply(reader.read(kind, record));
            counter("modelpress.dashboard.events.read", kind).increment();
        } catch (MalformedEvent e) {
            skip(kind, record, e.getMessage());
        } catch (RuntimeException e) {
            // whatever a record holds, the page goes on
            skip(kind, record, "unreadable: " + e);
        }
    }

    private void skip(EventKind kind, ConsumerRecord<String, byte[]> record, String reason) {
        String where = record.topic() + "/" + record.partition() + "@" + record.offset();
        LOG.warnf("skipped the record at %s: %s", where, reason);
        state.malformed(kind, where + ": " + reason);
        counter("modelpress.dashboard.events.skipped", kind).increment();
    }

    private Counter counter(String name, EventKind kind) {
        return Counter.builder(name).tag("topic", kind.channel()).register(registry);
    }
}

package io.modelpress.dashboard;

import io.modelpress.dashboard.DashboardView.Broker;
import io.modelpress.dashboard.DashboardView.Malformed;
import io.modelpress.dashboard.DashboardView.ModelView;
import io.modelpress.dashboard.DashboardView.Totals;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Everything the dashboard knows, built only from the events it read: a restart (or a second
 * replica) reads the topics from the start again and arrives at the same state. Bounded: beyond
 * {@code modelpress.dashboard.max-models} model versions the oldest are let go.
 */
@ApplicationScoped
public class DashboardState {

    private static final Logger LOG = Logger.getLogger(DashboardState.class);
    private static final int RECENT_MALFORMED = 10;

    private final Map<String, ModelEntry> models = new HashMap<>();
    private final Map<EventKind, Long> read = new EnumMap<>(EventKind.class);
    private final Deque<String> malformedReasons = new ArrayDeque<>();
    private final int maxModels;
    private final Clock clock;
    private long malformed;
    private long version;
    private Broker broker;
    private DashboardView cached;

    @Inject
    public DashboardState(@ConfigProperty(name = "modelpress.dashboard.max-models", defaultValue = "2000") int maxModels,
            @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrapServers) {
        this(maxModels, bootstrapServers, Clock.systemUTC());
    }

    DashboardState(int maxModels, String bootstrapServers, Clock clock) {
        if (maxModels < 1) {
            throw new IllegalArgumentException("modelpress.dashboard.max-models must be at least 1, not " + maxModels);
        }
        this.maxModels = maxModels;
        this.clock = clock;
        this.broker = new Broker(null, bootstrapServers, null, null);
    }

    public synchronized void apply(Event event) {
        models.computeIfAbsent(event.modelId() + "\u0000" + event.version(), key -> new ModelEntry(event.modelId(),
                event.version())).apply(event);
        read.merge(event.kind(), 1L, Long::sum);
        if (models.size() > maxModels) {
            models.values().stream().min(Comparator.comparing(ModelEntry::firstSeen))
                    .ifPresent(oldest -> models.values().remove(oldest));
        }
        changed();
    }

    public synchronized void malformed(EventKind kind, String reason) {
        malformed++;
        malformedReasons.addFirst(kind.channel() + ": " + reason);
        while (malformedReasons.size() > RECENT_MALFORMED) {
            malformedReasons.removeLast();
        }
        changed();
    }

    public synchronized void broker(boolean reachable, String error) {
        boolean same = broker.reachable() != null && broker.reachable() == reachable;
        if (!same) {
            if (reachable) {
                LOG.infof("the Kafka broker %s answers", broker.bootstrapServers());
            } else {
                LOG.warnf("the Kafka broker %s is unreachable: %s", broker.bootstrapServers(), error);
            }
        }
        broker = new Broker(reachable, broker.bootstrapServers(), error, clock.instant());
        if (!same) {
            changed();
        }
    }

    public synchronized long version() {
        return version;
    }

    /** Whether an S3 URI is one the events named (the artifact, its report and report page): only those are served. */
    public synchronized boolean knows(String uri) {
        return models.values().stream().flatMap(model -> model.view().profiles().stream())
                .map(DashboardView.ProfileView::links).filter(links -> links != null)
                .anyMatch(links -> uri.equals(links.artifact()) || uri.equals(links.report())
                        || uri.equals(links.reportHtml()));
    }

    public synchronized DashboardView view() {
        if (cached != null && cached.version() == version) {
            return cached;
        }
        Instant now = clock.instant();
        List<ModelEntry> entries = new ArrayList<>(models.values());
        entries.sort(Comparator.comparing(ModelEntry::firstSeen).reversed());
        List<ModelView> views = entries.stream().map(ModelEntry::view).toList();
        Map<String, Long> events = new LinkedHashMap<>();
        for (EventKind kind : EventKind.values()) {
            events.put(kind.channel(), read.getOrDefault(kind, 0L));
        }
        cached = new DashboardView(version, now, broker, totals(entries, views, now), events,
                new Malformed(malformed, List.copyOf(malformedReasons)), views, profiles(views), labels(entries));
        return cached;
    }

    private Totals totals(List<ModelEntry> entries, List<ModelView> views, Instant now) {
        Instant hourAgo = now.minus(Duration.ofHours(1));
        long saved = 0;
        int lastHour = 0;
        int results = 0;
        List<Double> toResult = new ArrayList<>();
        for (ModelEntry model : entries) {
            Instant firstResult = null;
            for (ProfileEntry profile : model.profiles()) {
                if (!profile.hasResult()) {
                    continue;
                }
                results++;
                saved += profile.bytesSaved();
                firstResult = firstResult == null || profile.resultAt().isBefore(firstResult) ? profile.resultAt()
                        : firstResult;
                Double seconds = model.secondsToResult(profile);
                if (seconds != null) {
                    toResult.add(seconds);
                }
            }
            if (firstResult != null && firstResult.isAfter(hourAgo) && !firstResult.isAfter(now)) {
                lastHour++;
            }
        }
        int running = (int) views.stream().filter(view -> view.status().equals("running")).count();
        int failures = (int) views.stream().filter(view -> view.status().equals("failed")).count();
        return new Totals(views.size(), lastHour, saved, median(toResult), results, running, failures);
    }

    private static Double median(List<Double> values) {
        if (values.isEmpty()) {
            return null;
        }
        List<Double> sorted = values.stream().sorted().toList();
        int middle = sorted.size() / 2;
        return sorted.size() % 2 == 1 ? sorted.get(middle) : (sorted.get(middle - 1) + sorted.get(middle)) / 2;
    }

    private static List<String> profiles(List<ModelView> views) {
        Set<String> profiles = new TreeSet<>();
        views.forEach(view -> view.profiles().forEach(profile -> profiles.add(profile.profile())));
        return List.copyOf(profiles);
    }

    private static List<String> labels(List<ModelEntry> entries) {
        Set<String> labels = new HashSet<>();
        entries.forEach(model -> model.labels().forEach((key, value) -> labels.add(key + "=" + value)));
        return labels.stream().sorted().toList();
    }

    private void changed() {
        version++;
    }
}

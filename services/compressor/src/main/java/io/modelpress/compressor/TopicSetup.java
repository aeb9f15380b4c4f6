package io.modelpress.compressor;

import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.jboss.logging.Logger;

/**
 * Creates the service's topics at start, or checks those that exist, before any consumer subscribes:
 * a topic created by the broker's auto-creation has one partition, and one partition is one instance
 * at work however many run. Partitions, replication and retention come from {@code modelpress.topics.*}.
 * A topic that exists is never altered; one with fewer partitions than asked for is reported.
 */
@ApplicationScoped
public class TopicSetup {

    private static final Logger LOG = Logger.getLogger(TopicSetup.class);
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);
    /** A refused login answers at once; a broker that is not up yet delays the start no longer than this. */
    private static final Duration LOGIN_CHECK_TIMEOUT = Duration.ofSeconds(10);

    private final CompressorConfig config;
    private final Map<String, Object> kafka;

    @Inject
    public TopicSetup(CompressorConfig config, @Identifier("default-kafka-broker") Map<String, Object> kafka) {
        this.config = Objects.requireNonNull(config, "config is null");
        this.kafka = Objects.requireNonNull(kafka, "kafka is null");
    }

    /** Before the messaging channels start (they start at {@code LIBRARY_BEFORE}). */
    void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) StartupEvent event) {
        CompressorConfig.Topics topics = config.topics();
        if (!topics.create()) {
            LOG.info("topics are left to the platform (modelpress.topics.create=false)");
            checkLogin();
            return;
        }
        List<String> names = new ArrayList<>(List.of(topics.modelRegistered(), topics.compressionResults(),
                topics.benchmarks(), topics.progress(), topics.failures(), topics.deadLetters()));
        names.addAll(config.faults().retryTopics()); // the connector only produces to them: created here, not by it
        ensure(names);
    }

    void ensure(List<String> names) {
        CompressorConfig.Topics topics = config.topics();
        if (topics.partitions() < 1) {
            throw new IllegalArgumentException("modelpress.topics.partitions must be at least 1, not " + topics.partitions());
        }
        try (Admin admin = Admin.create(adminConfig())) {
            Set<String> existing = admin.listTopics().names().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            List<NewTopic> missing = new ArrayList<>();
            List<String> present = new ArrayList<>();
            for (String name : new LinkedHashSet<>(names)) {
                if (existing.contains(name)) {
                    present.add(name);
                } else {
                    missing.add(newTopic(name, topics));
                }
            }
            create(admin, missing);
            check(admin, present, topics.partitions());
        } catch (ExecutionException e) {
            throw unreachable(e.getCause() == null ? e : e.getCause());
        } catch (TimeoutException | RuntimeException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unreachable(e);
        }
    }

    /**
     * Without topics to create, one request still tells at start whether the brokers accept the
     * login and the certificate: a refused one ends the start with the reason. A broker that does
     * not answer yet is left to the channels, which keep trying (and readiness says so).
     */
    private void checkLogin() {
        Admin admin = Admin.create(adminConfig());
        try {
            admin.describeCluster().clusterId().get(LOGIN_CHECK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AuthenticationException) {
                throw unreachable(e.getCause());
            }
            LOG.warnf("Kafka at %s did not answer at start: %s", kafka.get("bootstrap.servers"), e.getCause());
        } catch (TimeoutException e) {
            LOG.warnf("Kafka at %s did not answer within %s at start", kafka.get("bootstrap.servers"),
                    LOGIN_CHECK_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unreachable(e);
        } finally {
            admin.close(Duration.ofSeconds(1)); // not the request's own, longer timeout
        }
    }

    private static NewTopic newTopic(String name, CompressorConfig.Topics topics) {
        Optional<Short> replication = topics.replicationFactor() > 0
                ? Optional.of((short) topics.replicationFactor()) : Optional.empty();
        NewTopic topic = new NewTopic(name, Optional.of(topics.partitions()), replication);
        Map<String, String> settings = new HashMap<>();
        topics.retention().ifPresent(retention -> settings.put(TopicConfig.RETENTION_MS_CONFIG,
                String.valueOf(retention.toMillis())));
        return topic.configs(settings);
    }

    private static void create(Admin admin, List<NewTopic> missing) throws InterruptedException, TimeoutException,
            ExecutionException {
        for (NewTopic topic : missing) {
            try {
                admin.createTopics(List.of(topic)).all().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                LOG.infof("created topic %s with %d partition(s)", topic.name(), topic.numPartitions());
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
                // Another instance starting at the same time created it first.
            }
        }
    }

    private static void check(Admin admin, List<String> names, int partitions) throws InterruptedException,
            TimeoutException, ExecutionException {
        if (names.isEmpty()) {
            return;
        }
        Map<String, TopicDescription> described = admin.describeTopics(names).allTopicNames()
                .get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        for (TopicDescription topic : described.values()) {
            if (topic.partitions().size() < partitions) {
                LOG.warnf("topic %s has %d partition(s), fewer than modelpress.topics.partitions=%d: at most %d instance(s)"
                        + " work on it at once; add partitions with kafka-topics --alter", topic.name(),
                        topic.partitions().size(), partitions, topic.partitions().size());
            }
        }
    }

    private Map<String, Object> adminConfig() {
        return adminConfig(kafka, "modelpress-topic-setup");
    }

    /** An admin client's settings: the connector's shared Kafka settings (servers, security) that apply to one. */
    static Map<String, Object> adminConfig(Map<String, Object> kafka, String clientId) {
        Map<String, Object> settings = new HashMap<>();
        // The connector's shared Kafka settings (bootstrap servers, security) apply to the admin client too.
        kafka.forEach((key, value) -> {
            if (AdminClientConfig.configNames().contains(key)) {
                settings.put(key, value);
            }
        });
        settings.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId);
        settings.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ADMIN_TIMEOUT.toMillis());
        return settings;
    }

    private IllegalStateException unreachable(Throwable cause) {
        if (cause instanceof SaslAuthenticationException) {
            return new IllegalStateException("Kafka at " + kafka.get("bootstrap.servers") + " refused the SASL login: "
                    + cause.getMessage() + " (check MODELPRESS_KAFKA_SASL_USERNAME and MODELPRESS_KAFKA_SASL_PASSWORD)",
                    cause);
        }
        if (cause instanceof AuthenticationException) {
            return new IllegalStateException("cannot connect to Kafka at " + kafka.get("bootstrap.servers") + " over TLS: "
                    + cause.getMessage() + (cause.getCause() == null ? "" : ": " + cause.getCause().getMessage())
                    + " (check MODELPRESS_KAFKA_TRUSTSTORE)", cause);
        }
        return new IllegalStateException("cannot create or check the topics at " + kafka.get("bootstrap.servers") + ": "
                + cause.getMessage() + " (set MODELPRESS_TOPICS_CREATE=false to leave topics to the platform)", cause);
    }
}

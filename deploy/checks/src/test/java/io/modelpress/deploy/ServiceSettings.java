package io.modelpress.deploy;

import io.modelpress.bridge.BridgeConfig;
import io.modelpress.compressor.CompressorConfig;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.io.IOException;
import java.io.Reader;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * Which environment variables a modelpress service reads, so that a manifest cannot pass one
 * that nothing reads (a typo, or a setting that was renamed): the compressor's own settings
 * ({@link CompressorConfig}, from its interface), the keys of its application.properties, and
 * the Kafka clients' settings (Quarkus hands every {@code KAFKA_*} variable to the clients).
 */
final class ServiceSettings {

    /** Read by the image or a library rather than the service's configuration. */
    static final Map<String, String> RUNTIME = Map.of(
            "JAVA_OPTS", "the image's entrypoint passes it to java (services/compressor/Dockerfile, the Jib image)",
            "DJL_CACHE_DIR", "DJL unpacks the ONNX Runtime and PyTorch native libraries there");

    /** What every service reads: the broker and the object store. */
    static final Set<String> COMMON_S3 = Set.of("MODELPRESS_S3_ENDPOINT", "MODELPRESS_S3_ACCESS_KEY",
            "MODELPRESS_S3_SECRET_KEY", "MODELPRESS_S3_REGION");

    /** What every service reads when it is given: trust for an https endpoint with a private CA. */
    static final Set<String> OPTIONAL_S3 = Set.of("MODELPRESS_S3_CA_FILE", "MODELPRESS_S3_TRUST_JDK_CAS");

    private ServiceSettings() {
    }

    /** Why the compressor reads a variable, or empty when it does not. */
    static Optional<String> compressorReads(String variable) throws IOException {
        if (RUNTIME.containsKey(variable)) {
            return Optional.of(RUNTIME.get(variable));
        }
        if (kafkaClientReads(variable)) {
            return Optional.of("a Kafka client setting");
        }
        for (String property : compressorProperties()) {
            if (property.endsWith(".*") ? variable.startsWith(env(property.substring(0, property.length() - 1)))
                    : variable.equals(env(property))) {
                return Optional.of(property);
            }
        }
        return Optional.empty();
    }

    /** A setting of the registry bridge's own ({@link BridgeConfig}, modelpress.bridge.*). */
    static boolean bridgeReads(String variable) {
        Set<String> properties = new TreeSet<>();
        collect(BridgeConfig.class, BridgeConfig.class.getAnnotation(ConfigMapping.class).prefix(), properties,
                new HashSet<>());
        return properties.stream().anyMatch(p -> variable.equals(env(p)));
    }

    /** The settings every service reads: the broker and the object store. */
    static boolean commonSetting(String variable) {
        return variable.equals("JAVA_OPTS") || COMMON_S3.contains(variable) || OPTIONAL_S3.contains(variable)
                || kafkaClientReads(variable);
    }

    /** KAFKA_SASL_JAAS_CONFIG -> sasl.jaas.config, as Quarkus' Kafka config producer maps it. */
    static boolean kafkaClientReads(String variable) {
        if (!variable.startsWith("KAFKA_")) {
            return false;
        }
        String key = variable.substring("KAFKA_".length()).toLowerCase(Locale.ROOT).replace('_', '.');
        return ConsumerConfig.configNames().contains(key) || ProducerConfig.configNames().contains(key)
                || AdminClientConfig.configNames().contains(key);
    }

    /** Every property of CompressorConfig ("modelpress.max-in-flight", maps as "modelpress.default-chain.*") and application.properties. */
    static Set<String> compressorProperties() throws IOException {
        Set<String> properties = new TreeSet<>();
        String prefix = CompressorConfig.class.getAnnotation(ConfigMapping.class).prefix();
        collect(CompressorConfig.class, prefix, properties, new HashSet<>());
        Properties file = new Properties();
        try (Reader reader = Files.newBufferedReader(applicationProperties())) {
            file.load(reader);
        }
        file.stringPropertyNames().stream().filter(k -> !k.startsWith("%")).forEach(properties::add);
        return properties;
    }

    /** The compressor's configuration as the service would see it in a container with this environment. */
    static CompressorConfig compressorConfig(Map<String, String> environment) throws IOException {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withSources(new PropertiesConfigSource(applicationProperties().toUri().toURL(), 250))
                .withSources(new EnvConfigSource(environment, 300))
                .withConverter(Duration.class, 100, new DurationConverter())
                .withMapping(CompressorConfig.class)
                .build();
        return config.getConfigMapping(CompressorConfig.class);
    }

    static Path applicationProperties() {
        return Repo.root().resolve("services/compressor/src/main/resources/application.properties");
    }

    /** modelpress.default-chain."x86-vnni" -> MODELPRESS_DEFAULT_CHAIN__X86_VNNI_ (MicroProfile's rule). */
    static String env(String property) {
        StringBuilder env = new StringBuilder();
        for (char c : property.toCharArray()) {
            env.append(Character.isLetterOrDigit(c) ? Character.toUpperCase(c) : '_');
        }
        return env.toString();
    }

    private static void collect(Class<?> type, String prefix, Set<String> properties, Set<Class<?>> seen) {
        if (!seen.add(type)) {
            return;
        }
        for (Method method : type.getMethods()) {
            if (Modifier.isStatic(method.getModifiers()) || method.getParameterCount() != 0 || method.isDefault()) {
                continue;
            }
            String name = prefix + "." + kebab(method.getName());
            Class<?> returned = method.getReturnType();
            if (Map.class.isAssignableFrom(returned)) {
                properties.add(name + ".*");
            } else if (returned.isInterface() && returned.getName().startsWith("io.modelpress.")) {
                // a group of settings, at any depth (modelpress.kafka.sasl.password, modelpress.bridge.mlflow.url)
                collect(returned, name, properties, seen);
            } else {
                properties.add(name);
            }
        }
    }

    private static String kebab(String name) {
        StringBuilder kebab = new StringBuilder();
        for (char c : name.toCharArray()) {
            if (Character.isUpperCase(c)) {
                kebab.append('-').append(Character.toLowerCase(c));
            } else {
                kebab.append(c);
            }
        }
        return kebab.toString();
    }
}

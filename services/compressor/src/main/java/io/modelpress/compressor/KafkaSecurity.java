package io.modelpress.compressor;

import static java.util.Objects.requireNonNull;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * How the service's Kafka clients connect, from the {@code modelpress.kafka.*} security settings,
 * turned into Kafka client settings ({@code security.protocol}, {@code sasl.*}, {@code ssl.truststore.*}).
 * Every problem is found here, at start, with the environment variable to fix: a SASL protocol without
 * a password, a trust store that is not there. The password only ever goes into {@code sasl.jaas.config},
 * which the Kafka clients print as {@code [hidden]}; {@link #toString()} leaves it out too.
 */
record KafkaSecurity(Optional<String> protocol, String mechanism, Optional<String> username, Optional<String> password,
        Optional<Path> truststore, Optional<String> truststorePassword, Optional<String> truststoreType) {

    private static final Set<String> PROTOCOLS = Set.of("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL");
    private static final Map<String, String> LOGIN_MODULES = Map.of(
            "SCRAM-SHA-512", "org.apache.kafka.common.security.scram.ScramLoginModule",
            "SCRAM-SHA-256", "org.apache.kafka.common.security.scram.ScramLoginModule",
            "PLAIN", "org.apache.kafka.common.security.plain.PlainLoginModule");
    private static final Set<String> STORE_TYPES = Set.of("PEM", "PKCS12", "JKS");

    KafkaSecurity {
        requireNonNull(protocol, "protocol is null");
        requireNonNull(mechanism, "mechanism is null");
        requireNonNull(username, "username is null");
        requireNonNull(password, "password is null");
        requireNonNull(truststore, "truststore is null");
        requireNonNull(truststorePassword, "truststorePassword is null");
        requireNonNull(truststoreType, "truststoreType is null");
    }

    static KafkaSecurity of(CompressorConfig.Kafka kafka) {
        return new KafkaSecurity(kafka.securityProtocol(), kafka.sasl().mechanism(), kafka.sasl().username(),
                kafka.sasl().password(), kafka.truststore(), kafka.truststorePassword(), kafka.truststoreType());
    }

    /**
     * The Kafka client settings for this security, checked.
     *
     * @throws IllegalStateException naming the environment variable to set or fix
     */
    Map<String, Object> clientSettings() {
        if (protocol.isEmpty()) {
            return Map.of(); // the kafka.* settings, e.g. KAFKA_SECURITY_PROTOCOL, decide alone
        }
        String upper = protocol.get().strip().toUpperCase(Locale.ROOT);
        if (!PROTOCOLS.contains(upper)) {
            throw new IllegalStateException("MODELPRESS_KAFKA_SECURITY_PROTOCOL is " + protocol.get() + ": use one of "
                    + "PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL");
        }
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("security.protocol", upper);
        if (upper.startsWith("SASL_")) {
            sasl(upper, settings);
        }
        if (upper.endsWith("SSL")) {
            truststore(settings);
        } else if (truststore.isPresent()) {
            throw new IllegalStateException("MODELPRESS_KAFKA_TRUSTSTORE is set but MODELPRESS_KAFKA_SECURITY_PROTOCOL="
                    + upper + " does not use TLS: use SSL or SASL_SSL");
        }
        return settings;
    }

    private void sasl(String upper, Map<String, Object> settings) {
        String module = LOGIN_MODULES.get(mechanism.strip().toUpperCase(Locale.ROOT));
        if (module == null) {
            throw new IllegalStateException("MODELPRESS_KAFKA_SASL_MECHANISM is " + mechanism + ": use one of "
                    + "SCRAM-SHA-512, SCRAM-SHA-256, PLAIN");
        }
        String user = required(username, "MODELPRESS_KAFKA_SASL_USERNAME", upper);
        String secret = required(password, "MODELPRESS_KAFKA_SASL_PASSWORD", upper);
        settings.put("sasl.mechanism", mechanism.strip().toUpperCase(Locale.ROOT));
        settings.put("sasl.jaas.config", module + " required username=" + quoted(user, "MODELPRESS_KAFKA_SASL_USERNAME")
                + " password=" + quoted(secret, "MODELPRESS_KAFKA_SASL_PASSWORD") + ";");
    }

    private static String required(Optional<String> value, String variable, String protocol) {
        return value.filter(text -> !text.isEmpty()).orElseThrow(() -> new IllegalStateException(variable
                + " is not set: MODELPRESS_KAFKA_SECURITY_PROTOCOL=" + protocol + " needs it"));
    }

    /**
     * A JAAS option value: quoted, with {@code \} and {@code "} escaped, so that any password is
     * taken as it is. A line break would end the value early: it is refused (a secret file's
     * trailing newline is the usual cause), without showing the value.
     */
    private static String quoted(String value, String variable) {
        if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
            throw new IllegalStateException(variable + " contains a line break (a secret written with a trailing "
                    + "newline?): remove it");
        }
        return '"' + value.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    private void truststore(Map<String, Object> settings) {
        if (truststore.isEmpty()) {
            return; // the JDK's own CAs
        }
        Path file = truststore.get();
        if (!Files.isReadable(file)) {
            throw new IllegalStateException("MODELPRESS_KAFKA_TRUSTSTORE names " + file + ", which is not a readable file");
        }
        String type = truststoreType.map(value -> value.strip().toUpperCase(Locale.ROOT)).orElseGet(() -> typeOf(file));
        if (!STORE_TYPES.contains(type)) {
            throw new IllegalStateException("MODELPRESS_KAFKA_TRUSTSTORE_TYPE is " + type + ": use PEM, PKCS12 or JKS");
        }
        settings.put("ssl.truststore.type", type);
        settings.put("ssl.truststore.location", file.toAbsolutePath().toString());
        if (!type.equals("PEM")) {
            truststorePassword.ifPresent(secret -> settings.put("ssl.truststore.password", secret));
        }
    }

    private static String typeOf(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".p12") || name.endsWith(".pfx")) {
            return "PKCS12";
        }
        return name.endsWith(".jks") ? "JKS" : "PEM";
    }

    /** Without the passwords: a record would print every component. */
    @Override
    public String toString() {
        return "KafkaSecurity[protocol=" + protocol.orElse("(kafka.*)") + ", mechanism=" + mechanism + ", username="
                + username.orElse("") + ", truststore=" + truststore.map(Path::toString).orElse("(JDK)") + "]";
    }
}

package io.modelpress.compressor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.security.JaasContext;
import org.apache.kafka.common.config.types.Password;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Kafka security settings, checked at start, as the clients get them. */
class KafkaSecurityTest {

    @TempDir
    Path temp;

    @Test
    void plaintextAddsNothingButTheProtocolAndUnsetLeavesTheKafkaSettingsAlone() {
        assertEquals(Map.of("security.protocol", "PLAINTEXT"), security("plaintext", null, null).clientSettings());
        assertEquals(Map.of(), security(null, null, null).clientSettings(),
                "KAFKA_SECURITY_PROTOCOL and the other client settings decide");
    }

    @Test
    void saslSslGivesScramWithAPemTrustStoreAndAnyPasswordAsItIs() throws IOException {
        Path ca = Files.writeString(temp.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\n");
        String password = "pa\"ss\\word with spaces";
        Map<String, Object> settings = new KafkaSecurity(Optional.of("SASL_SSL"), "SCRAM-SHA-512", Optional.of("svc"),
                Optional.of(password), Optional.of(ca), Optional.empty(), Optional.empty()).clientSettings();
        assertEquals("SASL_SSL", settings.get("security.protocol"));
        assertEquals("SCRAM-SHA-512", settings.get("sasl.mechanism"));
        assertEquals("PEM", settings.get("ssl.truststore.type"));
        assertEquals(ca.toAbsolutePath().toString(), settings.get("ssl.truststore.location"));
        // Kafka's own parser reads back exactly the user and password given.
        var entry = JaasContext.loadClientContext(Map.of("sasl.jaas.config",
                new Password((String) settings.get("sasl.jaas.config")))).configurationEntries().get(0);
        assertEquals("org.apache.kafka.common.security.scram.ScramLoginModule", entry.getLoginModuleName());
        assertEquals("svc", entry.getOptions().get("username"));
        assertEquals(password, entry.getOptions().get("password"));
    }

    @Test
    void aMissingPasswordOrUserIsNamedAndTheTrustStoreMustExist() throws IOException {
        IllegalStateException noPassword = assertThrows(IllegalStateException.class,
                () -> security("SASL_SSL", "svc", null).clientSettings());
        assertEquals("MODELPRESS_KAFKA_SASL_PASSWORD is not set: MODELPRESS_KAFKA_SECURITY_PROTOCOL=SASL_SSL needs it",
                noPassword.getMessage());
        IllegalStateException noUser = assertThrows(IllegalStateException.class,
                () -> security("SASL_PLAINTEXT", null, "secret").clientSettings());
        assertTrue(noUser.getMessage().startsWith("MODELPRESS_KAFKA_SASL_USERNAME is not set"), noUser.getMessage());

        IllegalStateException missing = assertThrows(IllegalStateException.class, () -> new KafkaSecurity(Optional.of("SSL"),
                "SCRAM-SHA-512", Optional.empty(), Optional.empty(), Optional.of(temp.resolve("nope.pem")),
                Optional.empty(), Optional.empty()).clientSettings());
        assertTrue(missing.getMessage().startsWith("MODELPRESS_KAFKA_TRUSTSTORE names "), missing.getMessage());

        Path store = Files.write(temp.resolve("trust.p12"), new byte[] {1});
        Map<String, Object> pkcs12 = new KafkaSecurity(Optional.of("SSL"), "SCRAM-SHA-512", Optional.empty(), Optional.empty(),
                Optional.of(store), Optional.of("changeit"), Optional.empty()).clientSettings();
        assertEquals("PKCS12", pkcs12.get("ssl.truststore.type"));
        assertEquals("changeit", pkcs12.get("ssl.truststore.password"));
        assertFalse(pkcs12.containsKey("sasl.jaas.config"), "SSL alone logs in with no SASL user");
    }

    @Test
    void badValuesAreRefusedWithoutShowingTheSecret() {
        IllegalStateException protocol = assertThrows(IllegalStateException.class,
                () -> security("TLS", null, null).clientSettings());
        assertTrue(protocol.getMessage().startsWith("MODELPRESS_KAFKA_SECURITY_PROTOCOL is TLS"), protocol.getMessage());
        IllegalStateException newline = assertThrows(IllegalStateException.class,
                () -> security("SASL_SSL", "svc", "secret-value\n").clientSettings());
        assertTrue(newline.getMessage().startsWith("MODELPRESS_KAFKA_SASL_PASSWORD contains a line break"));
        assertFalse(newline.getMessage().contains("secret-value"));
        assertFalse(security("SASL_SSL", "svc", "secret-value").toString().contains("secret-value"));
    }

    private static KafkaSecurity security(String protocol, String user, String password) {
        return new KafkaSecurity(Optional.ofNullable(protocol), "SCRAM-SHA-512", Optional.ofNullable(user), Optional.ofNullable(password),
                Optional.empty(), Optional.empty(), Optional.empty());
    }
}

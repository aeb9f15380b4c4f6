package io.modelpress.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.localstack.Certificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trust of an S3 endpoint with a private CA, from a PEM file. */
class TrustedCertificatesTest {

    @TempDir
    Path temp;

    @Test
    void thePemFilesCaIsTrustedInsteadOfOrBesidesTheJdks() throws Exception {
        Certificates made = Certificates.create(temp.resolve("tls"));
        X509TrustManager only = TrustedCertificates.trustManager(made.caPem(), false);
        assertEquals(1, only.getAcceptedIssuers().length);
        assertEquals("CN=modelpress local stack CA", only.getAcceptedIssuers()[0].getSubjectX500Principal().getName());

        X509TrustManager both = TrustedCertificates.trustManager(made.caPem(), true);
        assertTrue(both.getAcceptedIssuers().length > 1, "the JDK's CAs besides");
        assertTrue(Arrays.stream(both.getAcceptedIssuers()).map(X509Certificate::getSubjectX500Principal)
                .anyMatch(only.getAcceptedIssuers()[0].getSubjectX500Principal()::equals));
    }

    @Test
    void aMissingOrWrongFileIsNamedWithItsSetting() throws Exception {
        IllegalStateException missing = assertThrows(IllegalStateException.class,
                () -> TrustedCertificates.trustManager(temp.resolve("nope.pem"), true));
        assertTrue(missing.getMessage().startsWith("MODELPRESS_S3_CA_FILE names "), missing.getMessage());
        Path text = Files.writeString(temp.resolve("ca.pem"), "not a certificate\n");
        IllegalStateException notPem = assertThrows(IllegalStateException.class,
                () -> TrustedCertificates.trustManager(text, true));
        assertTrue(notPem.getMessage().startsWith("MODELPRESS_S3_CA_FILE=" + text), notPem.getMessage());
    }
}

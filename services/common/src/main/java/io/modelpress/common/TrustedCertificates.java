package io.modelpress.common;

import static java.util.Objects.requireNonNull;

import io.minio.http.HttpUtils;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;

/**
 * Trust for an S3 endpoint with a private CA: the CA certificates of a PEM file, with or without the
 * JDK's own, as the MinIO client's HTTP client. Hostname checking stays as OkHttp does it.
 */
public final class TrustedCertificates {

    /** MinIO's own default; ObjectStore sets the configured timeouts on the client afterwards. */
    private static final long DEFAULT_TIMEOUT_MS = TimeUnit.MINUTES.toMillis(5);

    private TrustedCertificates() {
    }

    /** MinIO's default HTTP client, trusting the CAs of {@code pemFile} (and the JDK's when {@code withJdkCas}). */
    public static OkHttpClient httpClient(Path pemFile, boolean withJdkCas) {
        X509TrustManager trust = trustManager(pemFile, withJdkCas);
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {trust}, null);
            return HttpUtils.newDefaultHttpClient(DEFAULT_TIMEOUT_MS, DEFAULT_TIMEOUT_MS, DEFAULT_TIMEOUT_MS)
                    .newBuilder().sslSocketFactory(context.getSocketFactory(), trust).build();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot set up TLS for S3: " + e.getMessage(), e);
        }
    }

    /**
     * A trust manager for the certificates of {@code pemFile} and, when {@code withJdkCas}, the JDK's.
     *
     * @throws IllegalStateException naming MODELPRESS_S3_CA_FILE when the file is missing or holds no certificate
     */
    public static X509TrustManager trustManager(Path pemFile, boolean withJdkCas) {
        requireNonNull(pemFile, "pemFile is null");
        List<X509Certificate> certificates = read(pemFile);
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            for (int i = 0; i < certificates.size(); i++) {
                store.setCertificateEntry("ca-" + i, certificates.get(i));
            }
            if (withJdkCas) {
                X509Certificate[] jdk = x509(trustFactory(null)).getAcceptedIssuers();
                for (int i = 0; i < jdk.length; i++) {
                    store.setCertificateEntry("jdk-" + i, jdk[i]);
                }
            }
            return x509(trustFactory(store));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot trust the CA of MODELPRESS_S3_CA_FILE=" + pemFile + ": "
                    + e.getMessage(), e);
        }
    }

    private static List<X509Certificate> read(Path pemFile) {
        if (!Files.isReadable(pemFile)) {
            throw new IllegalStateException("MODELPRESS_S3_CA_FILE names " + pemFile + ", which is not a readable file");
        }
        Collection<? extends Certificate> read;
        try (InputStream in = Files.newInputStream(pemFile)) {
            read = CertificateFactory.getInstance("X.509").generateCertificates(in);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("MODELPRESS_S3_CA_FILE=" + pemFile + " is not a PEM file of certificates: "
                    + e.getMessage(), e);
        }
        List<X509Certificate> certificates = new ArrayList<>();
        for (Certificate certificate : read) {
            certificates.add((X509Certificate) certificate);
        }
        if (certificates.isEmpty()) {
            throw new IllegalStateException("MODELPRESS_S3_CA_FILE=" + pemFile + " holds no certificate");
        }
        return certificates;
    }

    private static TrustManagerFactory trustFactory(KeyStore store) throws GeneralSecurityException {
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        return factory;
    }

    private static X509TrustManager x509(TrustManagerFactory factory) {
        for (TrustManager manager : factory.getTrustManagers()) {
            if (manager instanceof X509TrustManager x509) {
                return x509;
            }
        }
        throw new IllegalStateException("the JVM has no X.509 trust manager");
    }
}

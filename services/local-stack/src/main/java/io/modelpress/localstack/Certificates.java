package io.modelpress.localstack;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A throw-away certificate authority and a server certificate signed by it for {@code 127.0.0.1} and
 * {@code localhost}, made with the JDK's own keytool: the local stack's TLS listeners present the
 * server certificate, clients trust the CA (as a PEM file or a PKCS12 trust store).
 *
 * @param caPem the CA certificate, PEM
 * @param trustStore the CA certificate as the one trusted entry of a PKCS12 store, password {@link #password()}
 * @param keyStore the server's key and certificate chain, PKCS12, password {@link #password()}
 * @param password of both stores; a test value, never a secret worth keeping
 */
public record Certificates(Path caPem, Path trustStore, Path keyStore, String password) {

    private static final long KEYTOOL_TIMEOUT_SECONDS = 60;

    public Certificates {
        Objects.requireNonNull(caPem, "caPem is null");
        Objects.requireNonNull(trustStore, "trustStore is null");
        Objects.requireNonNull(keyStore, "keyStore is null");
        Objects.requireNonNull(password, "password is null");
    }

    /** Makes a new CA and server certificate in {@code folder} (created if missing), valid for 30 days. */
    public static Certificates create(Path folder) throws IOException {
        Files.createDirectories(folder);
        String password = "local-stack-tls";
        Path ca = folder.resolve("ca.p12");
        Path caPem = folder.resolve("ca.pem");
        Path server = folder.resolve("server.p12");
        Path request = folder.resolve("server.csr");
        Path serverPem = folder.resolve("server.pem");
        Path trust = folder.resolve("truststore.p12");
        for (Path old : List.of(ca, caPem, server, request, serverPem, trust)) {
            Files.deleteIfExists(old);
        }
        keytool(folder, "-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=modelpress local stack CA", "-ext", "bc:c", "-validity", "30",
                "-keystore", ca.toString(), "-storetype", "PKCS12", "-storepass", password);
        keytool(folder, "-exportcert", "-rfc", "-alias", "ca", "-keystore", ca.toString(), "-storepass", password,
                "-file", caPem.toString());
        keytool(folder, "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=localhost", "-validity", "30", "-keystore", server.toString(), "-storetype", "PKCS12",
                "-storepass", password);
        keytool(folder, "-certreq", "-alias", "server", "-keystore", server.toString(), "-storepass", password,
                "-file", request.toString());
        // Clients check the name they connected to: the loopback address and its usual name.
        keytool(folder, "-gencert", "-alias", "ca", "-keystore", ca.toString(), "-storepass", password, "-rfc",
                "-infile", request.toString(), "-outfile", serverPem.toString(), "-validity", "30",
                "-ext", "san=ip:127.0.0.1,dns:localhost", "-ext", "ku:c=digitalSignature,keyAgreement",
                "-ext", "eku=serverAuth");
        keytool(folder, "-importcert", "-noprompt", "-alias", "ca", "-file", caPem.toString(),
                "-keystore", server.toString(), "-storepass", password);
        keytool(folder, "-importcert", "-alias", "server", "-file", serverPem.toString(),
                "-keystore", server.toString(), "-storepass", password);
        keytool(folder, "-importcert", "-noprompt", "-alias", "ca", "-file", caPem.toString(),
                "-keystore", trust.toString(), "-storetype", "PKCS12", "-storepass", password);
        return new Certificates(caPem, trust, server, password);
    }

    /** A TLS context that trusts only this CA: for a client in the same JVM, e.g. a readiness check. */
    public SSLContext sslContext() {
        try (var in = Files.newInputStream(trustStore)) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(in, password.toCharArray());
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new LocalStackException("cannot read the trust store " + trustStore + ": " + e.getMessage(), e);
        }
    }

    private static void keytool(Path folder, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Path log = folder.resolve("keytool.log");
        Process process = new ProcessBuilder(command).directory(folder.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        try {
            if (!process.waitFor(KEYTOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new LocalStackException("keytool " + args[0] + " did not finish within " + KEYTOOL_TIMEOUT_SECONDS
                        + " s");
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new LocalStackException("interrupted while making certificates", e);
        }
        if (process.exitValue() != 0) {
            throw new LocalStackException("keytool " + args[0] + " exited with code " + process.exitValue() + ": "
                    + Files.readString(log, StandardCharsets.UTF_8).strip());
        }
    }
}

package io.modelpress.cli;

import io.modelpress.engine.EngineException;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;

/**
 * Where a running demo's parts listen; written by {@code modelpress demo} into its work folder so
 * that {@code modelpress demo register} finds them.
 *
 * @param bootstrapServers the Kafka broker
 * @param s3Endpoint the S3 server (path-style buckets)
 * @param bucket where models are uploaded
 * @param service the compressor service's HTTP root (health and metrics)
 */
record DemoEndpoints(String bootstrapServers, URI s3Endpoint, String accessKey, String secretKey, String bucket,
        URI service) {

    static final String FILE = "endpoints.properties";

    void save(Path folder) throws IOException {
        Properties properties = new Properties();
        properties.setProperty("kafka.bootstrap.servers", bootstrapServers);
        properties.setProperty("s3.endpoint", s3Endpoint.toString());
        properties.setProperty("s3.access-key", accessKey);
        properties.setProperty("s3.secret-key", secretKey);
        properties.setProperty("s3.bucket", bucket);
        properties.setProperty("service", service.toString());
        // written aside and moved, so that a register run at this moment never reads half a file
        Path partial = folder.resolve(FILE + ".partial");
        try (Writer out = Files.newBufferedWriter(partial, StandardCharsets.UTF_8)) {
            properties.store(out, "the running modelpress demo");
        }
        Files.move(partial, folder.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The endpoints of the demo running in {@code folder}; a clear error when none was started there. */
    static DemoEndpoints load(Path folder) {
        Properties properties = new Properties();
        try (Reader in = Files.newBufferedReader(folder.resolve(FILE), StandardCharsets.UTF_8)) {
            properties.load(in);
        } catch (NoSuchFileException e) {
            throw new EngineException("no demo is running with work folder " + folder + " (no " + FILE
                    + "); start one with: bin/modelpress demo");
        } catch (IOException e) {
            throw new EngineException("cannot read " + folder.resolve(FILE) + ": " + e.getMessage(), e);
        }
        return new DemoEndpoints(required(properties, "kafka.bootstrap.servers"), URI.create(required(properties, "s3.endpoint")),
                required(properties, "s3.access-key"), required(properties, "s3.secret-key"),
                required(properties, "s3.bucket"), URI.create(required(properties, "service")));
    }

    static void delete(Path folder) throws IOException {
        Files.deleteIfExists(folder.resolve(FILE));
    }

    private static String required(Properties properties, String name) {
        String value = properties.getProperty(name);
        if (value == null || value.isBlank()) {
            throw new EngineException(FILE + " has no " + name + "; start the demo again");
        }
        return value;
    }
}

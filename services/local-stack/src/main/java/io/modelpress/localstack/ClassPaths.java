package io.modelpress.localstack;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The child JVMs' class paths. The build lists them (see this module's pom) as files in the local
 * Maven repository, where resolving them at build time put them; the repository is found the way
 * Maven finds it: {@code -Dmaven.repo.local}, else {@code ~/.m2/repository}.
 */
final class ClassPaths {

    static final String KAFKA = "kafka.classpath";
    static final String S3PROXY = "s3proxy.classpath";
    private static final String REPOSITORY_TOKEN = "@M2_REPO@";

    private ClassPaths() {
    }

    static List<Path> fromBuild(String resource) {
        return resolve(read(resource), localRepository(), resource);
    }

    static Path localRepository() {
        String configured = System.getProperty("maven.repo.local");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        return Path.of(System.getProperty("user.home"), ".m2", "repository");
    }

    static List<Path> resolve(String listing, Path repository, String resource) {
        List<Path> entries = Arrays.stream(listing.split("\\|"))
                .map(String::strip)
                .filter(entry -> !entry.isEmpty())
                .map(entry -> Path.of(entry.replace(REPOSITORY_TOKEN, repository.toString())))
                .toList();
        if (entries.isEmpty()) {
            throw new LocalStackException("the class path " + resource + " is empty: the local-stack module was not built right");
        }
        List<Path> missing = entries.stream().filter(entry -> !Files.isRegularFile(entry)).toList();
        if (!missing.isEmpty()) {
            throw new LocalStackException(missing.size() + " of " + entries.size() + " jars of " + resource
                    + " are not in the Maven repository " + repository + ", e.g. " + missing.get(0)
                    + "; build the module once with network access (./mvnw install -pl services/local-stack -am)"
                    + " or point -Dmaven.repo.local at the repository the build used");
        }
        return entries;
    }

    private static String read(String resource) {
        try (InputStream in = ClassPaths.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new LocalStackException("resource " + resource + " is missing: the local-stack module was not built"
                        + " with Maven (its build writes the child class paths)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
    }
}

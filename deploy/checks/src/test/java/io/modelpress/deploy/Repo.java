package io.modelpress.deploy;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the repository, its deploy folder and the build's npm packages are. */
final class Repo {

    private Repo() {
    }

    static Path root() {
        Path root = Path.of(System.getProperty("modelpress.repo", "../..")).toAbsolutePath().normalize();
        if (!Files.isRegularFile(root.resolve("docker-compose.yml"))) {
            throw new IllegalStateException("not the repository's top folder (no docker-compose.yml): " + root);
        }
        return root;
    }

    static Path deploy() {
        return root().resolve("deploy");
    }

    /** target/node, where the build ran npm ci (see this module's pom.xml). */
    static Path nodeDir() {
        Path dir = Path.of(System.getProperty("modelpress.node.dir", "target/node")).toAbsolutePath().normalize();
        if (!Files.isDirectory(dir.resolve("node_modules"))) {
            throw new IllegalStateException("no node_modules in " + dir + ": run the build (mvn verify), which runs npm ci");
        }
        return dir;
    }

    static Path target() {
        return nodeDir().getParent();
    }
}

package io.modelpress.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/** The overlays rendered once per test run with kustomize. */
final class Overlays {

    private static final Map<String, Manifests> RENDERED = new HashMap<>();

    private Overlays() {
    }

    static Manifests local() {
        return render("local", () -> Repo.deploy().resolve("overlays/local"));
    }

    static Manifests production() {
        return render("production", () -> Repo.deploy().resolve("overlays/production"));
    }

    /**
     * The production overlay with the one-job-per-event component, edited exactly as deploy/README.md
     * tells (in a copy of deploy/ under target/, so the relative paths stay the same).
     */
    static Manifests productionWithJobs() {
        return render("production + components/scaledjob", () -> {
            Path copy = Repo.target().resolve("variants/deploy");
            copyTree(Repo.deploy(), copy);
            Path kustomization = copy.resolve("overlays/production/kustomization.yaml");
            String text = Files.readString(kustomization);
            text = replaceOnce(text, "resources:\n  - ../../base\n",
                    "resources:\n  - ../../base\n\ncomponents:\n  - ../../components/scaledjob\n");
            text = replaceOnce(text, "  - path: kafka-auth-compressor.yaml\n",
                    "  - path: scaledjob-kafka-auth.yaml\n    target:\n      kind: ScaledJob\n"
                            + "      name: modelpress-compressor\n");
            Files.writeString(kustomization, text);
            return kustomization.getParent();
        });
    }

    static Manifests[] all() {
        return new Manifests[] {local(), production(), productionWithJobs()};
    }

    private interface Folder {
        Path get() throws IOException;
    }

    private static synchronized Manifests render(String name, Folder folder) {
        return RENDERED.computeIfAbsent(name, n -> {
            try {
                return Manifests.parse(n, Kustomize.build(folder.get()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        });
    }

    private static String replaceOnce(String text, String what, String with) {
        if (!text.contains(what)) {
            throw new IllegalStateException("overlays/production/kustomization.yaml no longer contains "
                    + what.strip() + ": update deploy/README.md and this edit together");
        }
        return text.replace(what, with);
    }

    private static void copyTree(Path from, Path to) throws IOException {
        if (Files.exists(to)) {
            try (Stream<Path> old = Files.walk(to)) {
                for (Path p : old.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : files.filter(p -> !p.startsWith(from.resolve("checks"))).toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}

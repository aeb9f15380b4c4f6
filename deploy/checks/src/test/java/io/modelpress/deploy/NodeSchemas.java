package io.modelpress.deploy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs validate.mjs: the JSON schemas of the npm packages kubernetes-models,
 * {@code @kubernetes-models/keda} and {@code @kubernetes-models/prometheus-operator} (types,
 * required fields, enums) over a set of documents.
 */
final class NodeSchemas {

    private NodeSchemas() {
    }

    /** The problems found, one line each; empty when every document is valid. */
    static List<String> problems(Manifests manifests) throws IOException, InterruptedException {
        Path input = Files.createTempFile(Repo.target(), "documents", ".json");
        Path output = Files.createTempFile(Repo.target(), "validate", ".out");
        try {
            new ObjectMapper().writeValue(input.toFile(), manifests.documents());
            Process node = new ProcessBuilder("node", "validate.mjs", input.toString())
                    .directory(Repo.nodeDir().toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
            if (!node.waitFor(2, TimeUnit.MINUTES)) {
                node.destroyForcibly();
                throw new IllegalStateException("node validate.mjs did not finish in 2 minutes");
            }
            List<String> lines = Files.readAllLines(output, StandardCharsets.UTF_8);
            List<String> problems = lines.stream().filter(l -> !l.startsWith("checked ")).toList();
            if (node.exitValue() != 0 && problems.isEmpty()) {
                throw new IllegalStateException("node validate.mjs failed: " + String.join("\n", lines));
            }
            if (node.exitValue() == 0 && !problems.isEmpty()) {
                throw new IllegalStateException("node validate.mjs printed problems but passed: " + problems);
            }
            return problems.stream().map(p -> manifests.source() + ": " + p).toList();
        } finally {
            Files.deleteIfExists(input);
            Files.deleteIfExists(output);
        }
    }

    /** How many documents validate.mjs checked (Strimzi's are left to {@link StrictSchema}). */
    static int checkedCount(Manifests manifests) throws IOException, InterruptedException {
        Path input = Files.createTempFile(Repo.target(), "documents", ".json");
        try {
            new ObjectMapper().writeValue(input.toFile(), manifests.documents());
            Process node = new ProcessBuilder("node", "validate.mjs", input.toString())
                    .directory(Repo.nodeDir().toFile())
                    .redirectErrorStream(true)
                    .start();
            String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            node.waitFor(2, TimeUnit.MINUTES);
            return out.lines().filter(l -> l.startsWith("checked ")).mapToInt(l -> Integer.parseInt(l.substring(8)))
                    .findFirst().orElseThrow(() -> new IllegalStateException("validate.mjs said: " + out));
        } finally {
            Files.deleteIfExists(input);
        }
    }
}

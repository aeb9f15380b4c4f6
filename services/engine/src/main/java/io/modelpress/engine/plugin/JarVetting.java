package io.modelpress.engine.plugin;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.regex.Pattern;

/**
 * Decides whether a plugin jar may load, before any of its classes does. The jar is copied into a
 * folder of this process and hashed while copied, and the copy is what loads: a jar swapped in the
 * plugins folder after the check never runs.
 */
final class JarVetting {

    /** The packages of ONNX Runtime's Java API: a plugin reaches the host's runtime only through PluginContext.runner. */
    static final String RUNTIME_PACKAGE = "ai/onnxruntime/";

    /** ONNX Runtime's native libraries under any name a platform gives them. */
    private static final Pattern RUNTIME_LIBRARY = Pattern.compile(
            "(^|.*/)(lib)?onnxruntime[^/]*\\.(so(\\.[0-9.]+)?|dll|dylib|jnilib)");

    /** A jar that may load: its private copy and its sha256. */
    record Vetted(Path copy, String sha256) {
    }

    /** Why a jar may not load. */
    static final class Refused extends Exception {
        Refused(String reason) {
            super(reason, null, false, false);
        }
    }

    private final PluginAllowList allowed;
    private final Optional<Path> copiesParent;
    private Path copies;

    JarVetting(PluginAllowList allowed) {
        this(allowed, Optional.empty());
    }

    /** @param copiesParent where the folder of the copies is made; empty for {@code java.io.tmpdir} */
    JarVetting(PluginAllowList allowed, Optional<Path> copiesParent) {
        this.allowed = Objects.requireNonNull(allowed, "allowed is null");
        this.copiesParent = Objects.requireNonNull(copiesParent, "copiesParent is null");
    }

    Vetted vet(Path jar) throws Refused {
        Path copy;
        String sha256;
        try {
            copy = copyFolder().resolve(jar.getFileName().toString());
            sha256 = copyHashing(jar, copy);
        } catch (IOException e) {
            throw new Refused("cannot be read: " + e.getMessage());
        }
        var refusal = allowed.refusal(jar.getFileName().toString(), sha256);
        if (refusal.isPresent()) {
            delete(copy);
            throw new Refused(refusal.get());
        }
        try {
            checkContent(copy);
        } catch (Refused e) {
            delete(copy);
            throw e;
        }
        return new Vetted(copy, sha256);
    }

    /**
     * A jar must bring no ONNX Runtime of its own (a second native runtime in the process, outside the
     * host's memory and thread settings) and name no other jars (its manifest's Class-Path would load
     * jars the allow-list never saw).
     */
    private static void checkContent(Path jar) throws Refused {
        try (JarFile file = new JarFile(jar.toFile(), false)) {
            Manifest manifest = file.getManifest();
            if (manifest != null && manifest.getMainAttributes().getValue(Attributes.Name.CLASS_PATH) != null) {
                throw new Refused("its manifest has a Class-Path (" + manifest.getMainAttributes()
                        .getValue(Attributes.Name.CLASS_PATH).strip() + "); a plugin jar must be self-contained, "
                        + "so that the allow-list covers every class it loads");
            }
            Enumeration<JarEntry> entries = file.entries();
            while (entries.hasMoreElements()) {
                String name = entries.nextElement().getName();
                if (name.startsWith(RUNTIME_PACKAGE) || RUNTIME_LIBRARY.matcher(name.toLowerCase(Locale.ROOT)).matches()) {
                    throw new Refused("it bundles ONNX Runtime (" + name + "); plugins run models only through the "
                            + "host's runtime (PluginContext.runner): build the jar without onnxruntime");
                }
            }
        } catch (IOException e) {
            throw new Refused("is not a readable jar: " + e.getMessage());
        }
    }

    private Path copyFolder() throws IOException {
        if (copies == null) {
            copies = copiesParent.isPresent()
                    ? Files.createTempDirectory(Files.createDirectories(copiesParent.get()), "plugins-")
                    : Files.createTempDirectory("modelpress-plugins-");
            copies.toFile().deleteOnExit();
        }
        return copies;
    }

    private static String copyHashing(Path jar, Path copy) throws IOException {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(jar), sha256);
                OutputStream out = Files.newOutputStream(copy)) {
            in.transferTo(out);
        }
        copy.toFile().deleteOnExit();
        return HexFormat.of().formatHex(sha256.digest());
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // removed at exit
        }
    }
}

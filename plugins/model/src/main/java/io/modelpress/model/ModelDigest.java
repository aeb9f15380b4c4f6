package io.modelpress.model;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SortedMap;

/**
 * The sha256 of a model together with its external data: the model file's bytes, then for each
 * external data file in name order its name, a zero byte and its bytes. A model without external
 * data has the plain sha256 of its file, so the digest matches {@code sha256sum model.onnx}.
 */
public final class ModelDigest {

    private ModelDigest() {
    }

    public static String of(byte[] modelBytes, SortedMap<String, Path> externalFiles) {
        MessageDigest sha = sha256();
        sha.update(modelBytes);
        addExternal(sha, externalFiles);
        return HexFormat.of().formatHex(sha.digest());
    }

    public static String of(Path modelFile, SortedMap<String, Path> externalFiles) {
        MessageDigest sha = sha256();
        update(sha, modelFile);
        addExternal(sha, externalFiles);
        return HexFormat.of().formatHex(sha.digest());
    }

    private static void addExternal(MessageDigest sha, SortedMap<String, Path> externalFiles) {
        externalFiles.forEach((name, file) -> {
            sha.update(name.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            update(sha, file);
        });
    }

    private static void update(MessageDigest sha, Path file) {
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int read; (read = in.read(buffer)) > 0; ) {
                sha.update(buffer, 0, read);
            }
        } catch (IOException e) {
            throw new ModelException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }
}

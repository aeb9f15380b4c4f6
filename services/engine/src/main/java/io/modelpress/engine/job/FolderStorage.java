package io.modelpress.engine.job;

import io.modelpress.engine.EngineException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;

/** Objects as files under a local folder: the key is the file's path inside it. */
public final class FolderStorage implements ObjectStorage {

    private final Path root;

    public FolderStorage(Path root) {
        this.root = Objects.requireNonNull(root, "root is null").toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    /** The file that holds a key; a key that would lead out of the folder is refused. */
    public Path file(String key) {
        Objects.requireNonNull(key, "key is null");
        Path file = root.resolve(key).normalize();
        if (key.isEmpty() || key.startsWith("/") || !file.startsWith(root) || file.equals(root)) {
            throw new EngineException("the key '" + key + "' does not name a file inside " + root);
        }
        return file;
    }

    @Override
    public Optional<String> readText(String key) {
        try {
            return Optional.of(Files.readString(file(key), StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new EngineException("cannot read " + file(key) + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String download(String key, Path target, long maxBytes) {
        Path file = file(key);
        MessageDigest sha = sha256();
        byte[] buffer = new byte[1 << 16];
        long total = 0;
        try (InputStream in = Files.newInputStream(file); OutputStream out = Files.newOutputStream(target)) {
            for (int read; (read = in.read(buffer)) > 0; ) {
                total += read;
                if (total > maxBytes) {
                    throw new TooLarge(file + " is larger than the limit of " + maxBytes + " bytes");
                }
                sha.update(buffer, 0, read);
                out.write(buffer, 0, read);
            }
        } catch (NoSuchFileException e) {
            throw new NotFound("no file " + file, e);
        } catch (IOException e) {
            throw new EngineException("cannot copy " + file + " to " + target + ": " + e.getMessage(), e);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    @Override
    public String describe(String key) {
        return root.resolve(key).normalize().toString();
    }

    @Override
    public boolean exists(String key) {
        return Files.isRegularFile(file(key));
    }

    @Override
    public void writeText(String key, String text, String contentType) {
        Path file = file(key);
        try {
            Files.createDirectories(file.getParent());
            // Written beside and moved in: a reader never sees half an object.
            Path partial = Files.createTempFile(file.getParent(), ".partial-", "");
            Files.writeString(partial, text, StandardCharsets.UTF_8);
            Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new EngineException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public boolean putIfAbsent(Path source, String key, String contentType) {
        Path file = file(key);
        if (Files.exists(file)) {
            return false;
        }
        try {
            Files.createDirectories(file.getParent());
            Path partial = Files.createTempFile(file.getParent(), ".partial-", "");
            Files.copy(source, partial, StandardCopyOption.REPLACE_EXISTING);
            Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE);
            return true;
        } catch (IOException e) {
            throw new EngineException("cannot store " + source + " as " + file + ": " + e.getMessage(), e);
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

package io.modelpress.engine.job;

import io.modelpress.engine.EngineException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
}

package io.modelpress.bridge.registry;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Accepted deliveries on disk, so that a delivery answered 2xx survives a restart of the bridge.
 * {@code pending/<key>.json} until its event is published or it fails, then {@code done/<key>.json}
 * with the outcome. A key found in either folder is a duplicate: MLflow retries with the same delivery id.
 * Every file is written whole to a temporary name, flushed to disk, then moved into place atomically.
 */
public final class DeliveryJournal {

    private final Path pending;
    private final Path done;

    public DeliveryJournal(Path folder) {
        requireNonNull(folder, "folder is null");
        this.pending = folder.resolve("pending");
        this.done = folder.resolve("done");
        try {
            Files.createDirectories(pending);
            Files.createDirectories(done);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the journal in " + folder + ": " + e.getMessage(), e);
        }
    }

    /** Records a new delivery; false when its key was accepted before (pending or done). */
    public synchronized boolean accept(Delivery delivery) {
        if (known(delivery.key())) {
            return false;
        }
        write(pending.resolve(delivery.key() + ".json"), Json.write(delivery));
        return true;
    }

    public synchronized boolean known(String key) {
        return Files.exists(pending.resolve(key + ".json")) || Files.exists(done.resolve(key + ".json"));
    }

    /** Replaces a pending delivery (its attempts and next try). */
    public synchronized void update(Delivery delivery) {
        Path file = pending.resolve(delivery.key() + ".json");
        if (Files.exists(file)) {
            write(file, Json.write(delivery));
        }
    }

    /** Ends a delivery: {@code outcome} is {@code published} or {@code failed}, with details. */
    public synchronized void complete(Delivery delivery, String outcome, String detail) {
        ObjectNode record = Json.object();
        record.put("outcome", outcome);
        record.put("detail", detail);
        record.put("completedAt", Instant.now().toString());
        record.set("delivery", Json.mapper().valueToTree(delivery));
        write(done.resolve(delivery.key() + ".json"), Json.write(record));
        try {
            Files.deleteIfExists(pending.resolve(delivery.key() + ".json"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove pending delivery " + delivery.key() + ": " + e.getMessage(), e);
        }
    }

    /** Every delivery not yet published or failed, oldest first. */
    public synchronized List<Delivery> pending() {
        List<Delivery> deliveries = new ArrayList<>();
        try (Stream<Path> files = Files.list(pending)) {
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".json")).toList()) {
                deliveries.add(Json.mapper().readValue(Files.readString(file), Delivery.class));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the journal in " + pending + ": " + e.getMessage(), e);
        }
        deliveries.sort((a, b) -> a.acceptedAt().compareTo(b.acceptedAt()));
        return deliveries;
    }

    /** The outcome of an ended delivery: its {@code outcome} and {@code detail}. */
    public synchronized Optional<ObjectNode> outcome(String key) {
        Path file = done.resolve(key + ".json");
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of((ObjectNode) Json.mapper().readTree(Files.readString(file)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    static void write(Path file, String text) {
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                channel.write(StandardCharsets.UTF_8.encode(text));
                channel.force(true);
            }
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}

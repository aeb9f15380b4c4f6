package io.modelpress.bridge.registry;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/** The status of every model version the bridge handled, one JSON file each, kept across restarts. */
public final class StatusStore {

    private final Path folder;

    public StatusStore(Path folder) {
        this.folder = requireNonNull(folder, "folder is null");
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + folder + ": " + e.getMessage(), e);
        }
    }

    public synchronized Optional<ModelStatus> get(String modelId, String version) {
        Path file = file(modelId, version);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Json.mapper().readValue(Files.readString(file), ModelStatus.class));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    public void accepted(String modelId, String version, String source) {
        update(modelId, version, s -> new ModelStatus(modelId, version, source, ModelStatus.ACCEPTED, null,
                s == null ? null : s.artifactUri(), Instant.now(), s == null ? null : s.profiles()));
    }

    public void published(String modelId, String version, String source, String artifactUri, List<String> profiles) {
        update(modelId, version, s -> {
            Map<String, ModelStatus.ProfileStatus> byProfile = new LinkedHashMap<>(s == null ? Map.of() : s.profiles());
            profiles.forEach(p -> byProfile.putIfAbsent(p, ModelStatus.ProfileStatus.pending()));
            return new ModelStatus(modelId, version, source, ModelStatus.PUBLISHED, null, artifactUri, Instant.now(),
                    byProfile);
        });
    }

    public void failed(String modelId, String version, String source, String reason) {
        update(modelId, version, s -> new ModelStatus(modelId, version, s == null ? source : s.source(),
                ModelStatus.FAILED, reason, s == null ? null : s.artifactUri(), Instant.now(),
                s == null ? null : s.profiles()));
    }

    public void profile(String modelId, String version, String profile, ModelStatus.ProfileStatus status) {
        update(modelId, version, s -> {
            Map<String, ModelStatus.ProfileStatus> byProfile = new LinkedHashMap<>(s == null ? Map.of() : s.profiles());
            byProfile.put(profile, status);
            return new ModelStatus(modelId, version, s == null ? null : s.source(),
                    s == null ? ModelStatus.PUBLISHED : s.state(), s == null ? null : s.reason(),
                    s == null ? null : s.artifactUri(), Instant.now(), byProfile);
        });
    }

    private synchronized void update(String modelId, String version, UnaryOperator<ModelStatus> change) {
        ModelStatus next = change.apply(get(modelId, version).orElse(null));
        DeliveryJournal.write(file(modelId, version), Json.write(next));
    }

    private Path file(String modelId, String version) {
        return folder.resolve(digest(modelId + "\0" + version) + ".json");
    }

    static String digest(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8))).substring(0, 32);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

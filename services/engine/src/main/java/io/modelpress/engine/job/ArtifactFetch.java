package io.modelpress.engine.job;

import static java.util.Objects.requireNonNull;

import io.modelpress.engine.EngineException;
import io.modelpress.model.ModelDigest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;

/**
 * What a job downloads, and nothing else: the model file, the external data files its graph
 * declares (found in the model's folder), and the data objects named to it. The model and its
 * external data together stay within one limit (the artifact limit or the work quota, whichever is
 * less), each data object within its own. The expected sha256 is checked before the model is parsed:
 * against the model file as soon as it is here, or, when it is the digest of the model with its
 * external data ({@link ModelDigest}), once those files are here too; until then only the external
 * data's locations are read from the model file.
 *
 * <p>Storage failures (an outage, a refused request) are the adapter's own exceptions and pass
 * through; what this policy refuses is a {@link Refused} with the reason's {@link Kind}, or a
 * {@link Mismatch}.
 */
public final class ArtifactFetch {

    private final ObjectStorage storage;
    private final Listener listener;

    /**
     * @param storage where the model's folder and the data objects are
     * @param listener told of each file fetched; it may end the fetch by throwing (a job stopped or
     *        timed out)
     */
    public ArtifactFetch(ObjectStorage storage, Listener listener) {
        this.storage = requireNonNull(storage, "storage is null");
        this.listener = requireNonNull(listener, "listener is null");
    }

    /** Told of each file as it is fetched. */
    public interface Listener {
        /**
         * @param key the object fetched
         * @param bytes its size
         * @param modelBytes the model and external data fetched so far, out of {@code modelLimit}
         * @param modelLimit the limit of the model with its external data
         */
        void fetched(String key, long bytes, long modelBytes, long modelLimit);

        /** Called before each further download: throws to stop the fetch. */
        default void check() {
        }
    }

    /** Why a fetch was refused; the service tells its stage from it. */
    public enum Kind {
        /** There is no model file under the key. */
        MISSING,
        /** The model with its external data, or a data object, is over its limit. */
        OVER_LIMIT,
        /** The model declares external data outside its folder. */
        OUTSIDE_FOLDER,
        /** The model file is no ONNX model (its external data could not be read from it). */
        NOT_A_MODEL
    }

    /** A fetch this policy refuses: not an outage, so trying again cannot help. */
    public static final class Refused extends EngineException {
        private final Kind kind;

        Refused(Kind kind, String message, Throwable cause) {
            super(message, cause);
            this.kind = kind;
        }

        public Kind kind() {
            return kind;
        }
    }

    /**
     * The fetched model.
     *
     * @param file the model file
     * @param external the external data files by their declared location, beside it
     * @param bytes the model and its external data
     * @param fileSha256 the sha256 of the model file alone
     */
    public record Model(Path file, SortedMap<String, Path> external, long bytes, String fileSha256) {
        public Model {
            requireNonNull(file, "file is null");
            external = Collections.unmodifiableSortedMap(new TreeMap<>(external));
            requireNonNull(fileSha256, "fileSha256 is null");
        }
    }

    /** The model (with its external data) is not what the request says; both digests are given. */
    public static final class Mismatch extends EngineException {
        private final String fileSha256;
        private final Optional<String> withExternal;

        Mismatch(String expected, String fileSha256, Optional<String> withExternal) {
            super("sha256 mismatch: expected " + expected + ", the model file's is " + fileSha256
                    + withExternal.map(value -> " and with its external data " + value).orElse(""));
            this.fileSha256 = fileSha256;
            this.withExternal = withExternal;
        }

        /** The model file's own sha256. */
        public String fileSha256() {
            return fileSha256;
        }

        /** The digest of the model with its external data, when it declares any. */
        public Optional<String> withExternal() {
            return withExternal;
        }
    }

    /**
     * Fetches the model file at {@code key} and the external data it declares into {@code folder},
     * then checks the expected sha256, all before the model is parsed.
     *
     * @param expectedSha256 the sha256 of the model file, or of the model with its external data; empty to accept any
     * @param limit the most the model and its external data may hold together
     * @throws Refused when missing, over the limit or declaring files outside its folder
     * @throws Mismatch when the bytes are not the expected ones
     */
    public Model model(String key, Optional<String> expectedSha256, Path folder, long limit) {
        requireNonNull(key, "key is null");
        requireNonNull(expectedSha256, "expectedSha256 is null");
        String parent = key.contains("/") ? key.substring(0, key.lastIndexOf('/') + 1) : "";
        Path modelFile = folder.resolve(key.substring(parent.length()));
        createDirectories(folder);
        Counted counted = new Counted(parent, limit);
        String fileSha = counted.download(key, modelFile, true);
        boolean verified = expectedSha256.map(fileSha::equals).orElse(false);
        SortedMap<String, Path> external = new TreeMap<>();
        for (String location : declared(modelFile)) {
            listener.check();
            Path target = folder.resolve(location);
            createDirectories(target.getParent());
            counted.download(parent + location, target, false);
            external.put(location, target);
        }
        if (expectedSha256.isPresent() && !verified) {
            String withExternal = ModelDigest.of(modelFile, external);
            if (!expectedSha256.get().equals(withExternal)) {
                throw new Mismatch(expectedSha256.get(), fileSha,
                        external.isEmpty() ? Optional.empty() : Optional.of(withExternal));
            }
        }
        return new Model(modelFile, external, counted.used, fileSha);
    }

    /**
     * Fetches a named data object to {@code file}.
     *
     * @return the sha256 of its bytes
     * @throws Refused when it is missing or over {@code limit}
     */
    public String data(String key, Path file, long limit) {
        requireNonNull(key, "key is null");
        listener.check();
        createDirectories(file.getParent());
        String sha;
        try {
            sha = storage.download(key, file, limit);
        } catch (ObjectStorage.NotFound e) {
            throw new Refused(Kind.MISSING, "no object at " + storage.describe(key), e);
        } catch (ObjectStorage.TooLarge e) {
            throw new Refused(Kind.OVER_LIMIT, storage.describe(key) + " is over the limit of " + limit + " bytes", e);
        }
        listener.fetched(key, size(file), 0, 0);
        return sha;
    }

    /** The parts of one model, counted together against its limit. */
    private final class Counted {
        private final String parent;
        private final long limit;
        private long used;

        Counted(String parent, long limit) {
            this.parent = parent;
            this.limit = limit;
        }

        /** @return the sha256 of the part */
        String download(String key, Path target, boolean isModel) {
            String sha;
            try {
                sha = storage.download(key, target, limit - used);
            } catch (ObjectStorage.NotFound e) {
                throw new Refused(Kind.MISSING, (isModel ? "" : "external data file of the model: ") + "no object at "
                        + storage.describe(key), e);
            } catch (ObjectStorage.TooLarge e) {
                throw new Refused(Kind.OVER_LIMIT, "the artifact " + storage.describe(parent) + " (the model and the"
                        + " external data it declares) is over the limit of " + limit + " bytes", e);
            }
            long size = size(target);
            used += size;
            listener.fetched(key, size, used, limit);
            return sha;
        }
    }

    private static SortedSet<String> declared(Path modelFile) {
        try {
            return DeclaredFiles.of(modelFile);
        } catch (DeclaredFiles.OutsideFolder e) {
            throw new Refused(Kind.OUTSIDE_FOLDER, e.getMessage(), e);
        } catch (EngineException e) {
            throw new Refused(Kind.NOT_A_MODEL, e.getMessage(), e);
        }
    }

    private static void createDirectories(Path folder) {
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new EngineException("cannot create the folder " + folder + ": " + e.getMessage(), e);
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }
}

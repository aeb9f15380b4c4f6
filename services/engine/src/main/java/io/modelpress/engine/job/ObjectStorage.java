package io.modelpress.engine.job;

import io.modelpress.engine.EngineException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a job keeps its results, addressed by keys with '/' between folders: an S3 bucket for the
 * service, a local folder for the command line. Failures are the adapter's own unchecked exceptions;
 * the job lets them pass; only a missing object and one over a download's limit have types of
 * their own here, since the job's download policy tells those apart.
 */
public interface ObjectStorage {

    /** Storage that holds nothing and keeps nothing: every request is computed, no result is kept. */
    ObjectStorage NONE = new ObjectStorage() {
        @Override
        public Optional<String> readText(String key) {
            return Optional.empty();
        }

        @Override
        public boolean exists(String key) {
            return false;
        }

        @Override
        public void writeText(String key, String text, String contentType) {
        }

        @Override
        public boolean putIfAbsent(Path file, String key, String contentType) {
            return false;
        }

        @Override
        public String download(String key, Path target, long maxBytes) {
            throw new NotFound("no storage: there is no object " + key);
        }
    };

    /** There is no object under the key. */
    final class NotFound extends EngineException {
        public NotFound(String message) {
            super(message);
        }

        public NotFound(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The object holds more bytes than the download allows; what was written is incomplete. */
    final class TooLarge extends EngineException {
        public TooLarge(String message) {
            super(message);
        }
    }

    /** The object's text, or empty when there is no such object. */
    Optional<String> readText(String key);

    boolean exists(String key);

    void writeText(String key, String text, String contentType);

    /**
     * Streams an object to a file, stopping as soon as it holds more than {@code maxBytes}.
     *
     * @return the sha256 of what was written, lowercase hex
     * @throws NotFound when there is no object under the key
     * @throws TooLarge when it holds more than {@code maxBytes}
     */
    String download(String key, Path target, long maxBytes);

    /** The key as a person finds the object: with its bucket or folder. */
    default String describe(String key) {
        return key;
    }

    /**
     * Stores a file unless an object is already there. Results are stored under content-addressed
     * keys (reports under the request's digest), so an object that exists holds what would be
     * written, and a result computed again is never written twice.
     *
     * @return whether it wrote
     */
    boolean putIfAbsent(Path file, String key, String contentType);
}

package io.modelpress.engine.job;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a job keeps its results, addressed by keys with '/' between folders: an S3 bucket for the
 * service, a local folder for the command line. Failures are the adapter's own unchecked exceptions;
 * the job lets them pass.
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
    };

    /** The object's text, or empty when there is no such object. */
    Optional<String> readText(String key);

    boolean exists(String key);

    void writeText(String key, String text, String contentType);

    /**
     * Stores a file unless an object is already there. Results are stored under content-addressed
     * keys (reports under the request's digest), so an object that exists holds what would be
     * written, and a result computed again is never written twice.
     *
     * @return whether it wrote
     */
    boolean putIfAbsent(Path file, String key, String contentType);
}

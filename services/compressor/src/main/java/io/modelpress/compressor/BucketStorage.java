package io.modelpress.compressor;

import io.modelpress.engine.job.ObjectStorage;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/** One bucket of the service's S3 storage as the engine's job sees storage: keys inside the bucket. */
final class BucketStorage implements ObjectStorage {

    private final ObjectStore store;
    private final String bucket;

    BucketStorage(ObjectStore store, String bucket) {
        this.store = Objects.requireNonNull(store, "store is null");
        this.bucket = Objects.requireNonNull(bucket, "bucket is null");
    }

    S3Location location(String key) {
        return new S3Location(bucket, key);
    }

    @Override
    public Optional<String> readText(String key) {
        return store.readText(location(key));
    }

    @Override
    public boolean exists(String key) {
        return store.exists(location(key));
    }

    @Override
    public void writeText(String key, String text, String contentType) {
        store.writeText(location(key), text, contentType);
    }

    @Override
    public String download(String key, Path target, long maxBytes) {
        return store.download(location(key), target, maxBytes);
    }

    @Override
    public String describe(String key) {
        return location(key).toString();
    }

    @Override
    public boolean putIfAbsent(Path file, String key, String contentType) {
        return store.uploadIfAbsent(file, location(key), contentType);
    }
}

package io.modelpress.compressor;

import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An object in S3-compatible storage, written {@code s3://bucket/key}.
 *
 * @param bucket the bucket
 * @param key the object key, never empty
 */
public record S3Location(String bucket, String key) {

    private static final Pattern URI = Pattern.compile("s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(\\S+)");

    public S3Location {
        Objects.requireNonNull(bucket, "bucket is null");
        Objects.requireNonNull(key, "key is null");
        if (key.isEmpty()) {
            throw new IllegalArgumentException("key is empty");
        }
    }

    public static S3Location parse(String uri) {
        Matcher match = URI.matcher(uri);
        if (!match.matches()) {
            throw new IllegalArgumentException("'" + uri + "' is not s3://bucket/key");
        }
        return new S3Location(match.group(1), match.group(2));
    }

    /** The key's folder with its trailing slash ({@code a/b/} for {@code a/b/model.onnx}), or empty at the bucket's top. */
    public String folder() {
        int slash = key.lastIndexOf('/');
        return slash < 0 ? "" : key.substring(0, slash + 1);
    }

    /** The last part of the key. */
    public String fileName() {
        return key.substring(key.lastIndexOf('/') + 1);
    }

    /** An object in the same bucket. */
    public S3Location withKey(String otherKey) {
        return new S3Location(bucket, otherKey);
    }

    @Override
    public String toString() {
        return "s3://" + bucket + "/" + key;
    }
}

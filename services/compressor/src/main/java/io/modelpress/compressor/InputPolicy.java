package io.modelpress.compressor;

import java.util.List;
import java.util.Objects;

/**
 * Which S3 locations an event may name: the configured allow-list of buckets and key prefixes,
 * and keys without {@code .} or {@code ..} segments. Anyone who can publish to the input topic
 * chooses the URIs, so the service reads (and writes beside) only what it was told it may.
 */
final class InputPolicy {

    /** One allow-list entry: a bucket and a key prefix, empty for the whole bucket. */
    record Entry(String bucket, String prefix) {
        static Entry parse(String text) {
            String entry = text.strip();
            if (entry.startsWith("s3://")) {
                entry = entry.substring("s3://".length());
            }
            int slash = entry.indexOf('/');
            String bucket = slash < 0 ? entry : entry.substring(0, slash);
            String prefix = slash < 0 ? "" : entry.substring(slash + 1);
            if (bucket.isEmpty()) {
                throw new IllegalArgumentException("modelpress.inputs.allowed entry '" + text + "' names no bucket");
            }
            return new Entry(bucket, prefix);
        }

        boolean covers(S3Location location) {
            return bucket.equals(location.bucket()) && location.key().startsWith(prefix);
        }

        @Override
        public String toString() {
            return bucket + "/" + prefix;
        }
    }

    private final List<Entry> allowed;

    InputPolicy(List<String> allowed) {
        Objects.requireNonNull(allowed, "allowed is null");
        this.allowed = allowed.stream().filter(entry -> !entry.isBlank()).map(Entry::parse).toList();
        if (this.allowed.isEmpty()) {
            throw new IllegalArgumentException("modelpress.inputs.allowed (MODELPRESS_INPUTS_ALLOWED) lists no bucket");
        }
    }

    /** The bucket of the first entry: where the service keeps its own small state (crash markers). */
    String stateBucket() {
        return allowed.get(0).bucket();
    }

    /**
     * The location a URI of the event names, when the event may name it.
     *
     * @param what what the URI is, for the reason: "artifactUri", "calibrationDataUri"...
     * @throws JobFailure at stage VALIDATE, not retryable, saying what is wrong
     */
    S3Location check(String uri, String what) {
        S3Location location;
        try {
            location = S3Location.parse(uri);
        } catch (IllegalArgumentException e) {
            throw new JobFailure(Stage.VALIDATE, false, what + ": " + e.getMessage());
        }
        for (String segment : location.key().split("/", -1)) {
            if (segment.equals("..") || segment.equals(".")) {
                throw new JobFailure(Stage.VALIDATE, false, what + " " + uri + " has a '" + segment
                        + "' segment in its key; keys must name the object directly");
            }
        }
        if (location.key().contains("\\")) {
            throw new JobFailure(Stage.VALIDATE, false, what + " " + uri + " has a backslash in its key");
        }
        if (allowed.stream().noneMatch(entry -> entry.covers(location))) {
            throw new JobFailure(Stage.VALIDATE, false, what + " " + uri + " is outside the locations this service"
                    + " may read (MODELPRESS_INPUTS_ALLOWED: " + String.join(", ", allowed.stream()
                            .map(Entry::toString).toList()) + ")");
        }
        return location;
    }
}

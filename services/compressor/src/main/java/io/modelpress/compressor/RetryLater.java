package io.modelpress.compressor;

/**
 * A job failed for a transient reason after its backoff ran out (storage or the broker away for
 * longer than a job waits): the record is nacked, and the connector's delayed-retry-topic strategy
 * sends it to the retry topic, from which it comes again later.
 */
final class RetryLater extends RuntimeException {

    RetryLater(String reason) {
        super(reason, null, false, false);
    }
}

package io.modelpress.compressor;

import org.apache.kafka.common.errors.RetriableException;

/** An output event could not be published: the input is not acknowledged, so it comes again. */
final class PublishFailure extends RuntimeException {

    private final boolean transientFault;

    PublishFailure(String message, Throwable cause) {
        super(message, cause);
        this.transientFault = isTransient(cause);
    }

    /**
     * Whether publishing again may succeed: the broker was away or slow (Kafka's retriable errors,
     * a timeout); not when the broker refused the record itself (too large, not authorised, invalid).
     */
    boolean transientFault() {
        return transientFault;
    }

    private static boolean isTransient(Throwable cause) {
        for (Throwable error = cause; error != null; error = error.getCause()) {
            if (error instanceof RetriableException || error instanceof java.util.concurrent.TimeoutException) {
                return true;
            }
            if (error instanceof org.apache.kafka.common.errors.ApiException
                    || error instanceof InterruptedException) {
                return false;
            }
        }
        return true; // the emitter's own errors (a producer reconnecting): worth another try
    }
}

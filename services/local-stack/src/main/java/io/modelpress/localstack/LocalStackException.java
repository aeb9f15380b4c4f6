package io.modelpress.localstack;

/** A part of the local stack could not start or stop; the message says which, why, and the end of its log. */
public final class LocalStackException extends RuntimeException {

    public LocalStackException(String message) {
        super(message);
    }

    public LocalStackException(String message, Throwable cause) {
        super(message, cause);
    }
}

package io.modelpress.bridge.registry;

/**
 * A step of the bridge failed. {@code retryable}: the same step may succeed later unchanged (a server
 * was unreachable); otherwise the delivery ends failed with this message as its reason.
 */
public class RegistryException extends RuntimeException {

    private static final long serialVersionUID = 1L;
    private final boolean retryable;

    public RegistryException(String message, boolean retryable) {
        super(message);
        this.retryable = retryable;
    }

    public RegistryException(String message, boolean retryable, Throwable cause) {
        super(message, cause);
        this.retryable = retryable;
    }

    public boolean retryable() {
        return retryable;
    }
}

package io.modelpress.compressor;

import java.util.Objects;

/** Work on a registered model (or one of its profiles) that cannot go on, with a reason a person can act on. */
public final class JobFailure extends RuntimeException {

    private final Stage stage;
    private final boolean retryable;

    public JobFailure(Stage stage, boolean retryable, String reason) {
        this(stage, retryable, reason, null);
    }

    public JobFailure(Stage stage, boolean retryable, String reason, Throwable cause) {
        super(Objects.requireNonNull(reason, "reason is null"), cause);
        this.stage = Objects.requireNonNull(stage, "stage is null");
        this.retryable = retryable;
    }

    public Stage stage() {
        return stage;
    }

    /** Whether sending the same event again may succeed. */
    public boolean retryable() {
        return retryable;
    }
}

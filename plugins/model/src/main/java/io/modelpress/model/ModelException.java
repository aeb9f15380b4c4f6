package io.modelpress.model;

/**
 * A model could not be read, validated or written. The message is one line that names the file,
 * tensor or node at fault and the reason, fit to show a user as it is.
 */
public class ModelException extends RuntimeException {

    public ModelException(String message) {
        super(message);
    }

    public ModelException(String message, Throwable cause) {
        super(message, cause);
    }
}

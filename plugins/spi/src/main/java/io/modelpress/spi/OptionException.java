package io.modelpress.spi;

/** Options given to a plugin are unknown or invalid; the message lists what is valid. */
public class OptionException extends IllegalArgumentException {

    public OptionException(String message) {
        super(message);
    }
}

package io.modelpress.engine;

/**
 * A request the engine cannot carry out because of its input: an unknown plugin or profile,
 * invalid options, a model that is not valid. The message is one line meant for the user.
 */
public class EngineException extends RuntimeException {

    public EngineException(String message) {
        super(message);
    }

    public EngineException(String message, Throwable cause) {
        super(message, cause);
    }
}

package io.modelpress.spi;

/**
 * A plugin cannot do its work on this model or these inputs, for a reason a user can act on
 * ("the model has no MatMul or Gemm weights to quantize"). The host fails the step with this
 * message as it is.
 */
public class PluginException extends Exception {

    public PluginException(String message) {
        super(message);
    }

    public PluginException(String message, Throwable cause) {
        super(message, cause);
    }
}

package io.modelpress.compressor;

/** An output event could not be published: the input is not acknowledged, so it comes again. */
final class PublishFailure extends RuntimeException {

    PublishFailure(String message, Throwable cause) {
        super(message, cause);
    }
}

package io.modelpress.engine;

/** Hears how far a compression has come; the CLI draws a bar, the service publishes events. */
@FunctionalInterface
public interface ProgressListener {

    ProgressListener NONE = (stage, fraction, message) -> { };

    /**
     * @param stage what runs now, e.g. {@code load}, {@code step 2/3 int8-dynamic}, {@code verify}
     * @param fraction of the whole job, 0 to 1
     * @param message detail, may be empty
     */
    void progress(String stage, double fraction, String message);
}

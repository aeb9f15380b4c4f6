package io.modelpress.compressor;

import io.modelpress.engine.CompressionEngine;
import java.util.concurrent.CancellationException;

/** Lets the service stop one running job: abandoned at shutdown (it comes again after a restart) or timed out. */
final class JobControl {

    /** The job was stopped for shutdown: publish nothing, acknowledge nothing. */
    static final class Abandoned extends RuntimeException {
        Abandoned() {
            super("abandoned at shutdown; the event is processed again after the restart", null, false, false);
        }
    }

    private volatile CompressionEngine engine;
    private volatile boolean abandoned;
    private volatile boolean timedOut;

    void engine(CompressionEngine current) {
        this.engine = current;
        if (abandoned || timedOut) {
            current.cancel();
        }
    }

    void abandon() {
        abandoned = true;
        cancelEngine();
    }

    void timeOut() {
        timedOut = true;
        cancelEngine();
    }

    boolean abandoned() {
        return abandoned;
    }

    boolean timedOut() {
        return timedOut;
    }

    /** Between stages: stops an abandoned or timed-out job. */
    void check() {
        if (abandoned) {
            throw new Abandoned();
        }
        if (timedOut) {
            throw new CancellationException("timed out");
        }
    }

    /** Where a cancelled job is caught: rethrows only for shutdown, so that a timeout can still be reported. */
    void checkAbandoned() {
        if (abandoned) {
            throw new Abandoned();
        }
    }

    private void cancelEngine() {
        CompressionEngine current = engine;
        if (current != null) {
            current.cancel();
        }
    }
}

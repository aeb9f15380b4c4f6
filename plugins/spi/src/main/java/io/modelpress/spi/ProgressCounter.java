package io.modelpress.spi;

import java.util.Objects;

/**
 * Progress over a number of units of work that may finish on several threads: reports go to the
 * host one at a time and never move backwards.
 */
public final class ProgressCounter {

    private final PluginContext context;
    private final double from;
    private final double to;
    private final int units;
    private int done;

    public ProgressCounter(PluginContext context, double from, double to, int units) {
        this.context = Objects.requireNonNull(context, "context is null");
        this.from = from;
        this.to = to;
        this.units = Math.max(1, units);
    }

    public synchronized void unitDone(String message) {
        done++;
        context.progress(from + (to - from) * done / units, message + " (" + done + " of " + units + ")");
    }
}

package io.modelpress.cli;

import io.modelpress.engine.ProgressListener;
import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Progress for a person: a one-line bar redrawn in place on a terminal; elsewhere (CI, pipes, log
 * files) plain lines, throttled so that long work shows it is alive without flooding the log.
 */
final class ProgressBar implements ProgressListener, AutoCloseable {

    private static final int WIDTH = 30;
    /** Plain lines: a new line at most this often while the work goes on... */
    static final long LINE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** ...or sooner, but not sooner than this, when the work has moved on by a tenth. */
    static final long MIN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** A step that reports nothing for this long (a slow measurement) is shown as still running. */
    static final long HEARTBEAT_NANOS = TimeUnit.SECONDS.toNanos(15);

    /** How progress is shown. */
    enum Mode { TERMINAL, LINES, SILENT }

    private final PrintStream stream;
    private final Mode mode;
    private final LongSupplier clock;
    private final long start;
    private int lastLength;
    private long lastLineAt;
    private double lastLineFraction = -1;
    private String pending;
    private String current;
    private ScheduledExecutorService heartbeat;

    ProgressBar(PrintStream stream, Mode mode, LongSupplier clock) {
        this.stream = stream;
        this.mode = mode;
        this.clock = clock;
        this.start = clock.getAsLong();
    }

    /** On standard error: a bar on a terminal, plain lines when it is redirected, nothing when quiet. */
    static ProgressBar onStderr(boolean quiet) {
        Mode mode = quiet ? Mode.SILENT : System.console() != null ? Mode.TERMINAL : Mode.LINES;
        ProgressBar bar = new ProgressBar(System.err, mode, System::nanoTime);
        if (mode == Mode.LINES) {
            bar.heartbeat = Executors.newSingleThreadScheduledExecutor(task -> {
                Thread thread = new Thread(task, "modelpress-progress");
                thread.setDaemon(true);
                return thread;
            });
            bar.heartbeat.scheduleWithFixedDelay(bar::tick, 1, 1, TimeUnit.SECONDS);
        }
        return bar;
    }

    /** Between reports: a step silent for a while is shown as still running, so a log never goes quiet for long. */
    synchronized void tick() {
        long now = clock.getAsLong();
        if (mode == Mode.LINES && current != null && lastLineFraction < 1 && now - lastLineAt >= HEARTBEAT_NANOS) {
            emit(current + " (still running)", now, lastLineFraction);
        }
    }

    @Override
    public synchronized void progress(String stage, double fraction, String message) {
        switch (mode) {
            case TERMINAL -> draw(stage, fraction, message);
            case LINES -> line(stage, fraction, message);
            case SILENT -> { }
        }
    }

    private void draw(String stage, double fraction, String message) {
        int filled = (int) Math.round(Math.max(0, Math.min(1, fraction)) * WIDTH);
        String line = String.format("[%s%s] %3d%% %s%s", "#".repeat(filled), ".".repeat(WIDTH - filled),
                Math.round(fraction * 100), stage, message.isEmpty() ? "" : " - " + message);
        if (line.length() > 110) {
            line = line.substring(0, 110);
        }
        stream.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
        stream.flush();
        lastLength = line.length();
    }

    /** The first report, then one line every few seconds, or after a tenth of the work, and the end. */
    private void line(String stage, double fraction, String message) {
        long now = clock.getAsLong();
        String text = String.format(Locale.ROOT, "%3d%% %s%s", Math.round(Math.max(0, Math.min(1, fraction)) * 100), stage,
                message.isEmpty() ? "" : " - " + message);
        current = text;
        boolean first = lastLineFraction < 0;
        long since = now - lastLineAt;
        boolean due = since >= LINE_INTERVAL_NANOS || since >= MIN_INTERVAL_NANOS && fraction - lastLineFraction >= 0.1;
        if (first || due || fraction >= 1 && lastLineFraction < 1) {
            emit(text, now, fraction);
        } else {
            pending = text;
        }
    }

    private void emit(String text, long now, double fraction) {
        stream.printf("progress %s: %s%n", elapsed(now - start), text);
        stream.flush();
        lastLineAt = now;
        lastLineFraction = fraction;
        pending = null;
    }

    /** Whole seconds since the start, as 7s or 2m05s. */
    static String elapsed(long nanos) {
        long seconds = TimeUnit.NANOSECONDS.toSeconds(nanos);
        return seconds < 60 ? seconds + "s" : String.format(Locale.ROOT, "%dm%02ds", seconds / 60, seconds % 60);
    }

    @Override
    public synchronized void close() {
        if (heartbeat != null) {
            heartbeat.shutdownNow();
        }
        if (mode == Mode.TERMINAL && lastLength > 0) {
            stream.print("\r" + " ".repeat(lastLength) + "\r");
            stream.flush();
        }
        if (mode == Mode.LINES && pending != null && lastLineFraction < 1) {
            emit(pending, clock.getAsLong(), lastLineFraction); // where the work stopped, if it stopped early
        }
    }
}

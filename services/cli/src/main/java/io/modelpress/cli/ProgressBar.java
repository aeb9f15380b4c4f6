package io.modelpress.cli;

import io.modelpress.engine.ProgressListener;
import java.io.PrintStream;

/** A one-line progress bar on a terminal; silent when there is none. */
final class ProgressBar implements ProgressListener, AutoCloseable {

    private static final int WIDTH = 30;

    private final PrintStream terminal;
    private int lastLength;

    ProgressBar(PrintStream terminal) {
        this.terminal = terminal;
    }

    @Override
    public synchronized void progress(String stage, double fraction, String message) {
        if (terminal == null) {
            return;
        }
        int filled = (int) Math.round(Math.max(0, Math.min(1, fraction)) * WIDTH);
        String line = String.format("[%s%s] %3d%% %s%s", "#".repeat(filled), ".".repeat(WIDTH - filled),
                Math.round(fraction * 100), stage, message.isEmpty() ? "" : " - " + message);
        if (line.length() > 110) {
            line = line.substring(0, 110);
        }
        terminal.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
        terminal.flush();
        lastLength = line.length();
    }

    @Override
    public synchronized void close() {
        if (terminal != null && lastLength > 0) {
            terminal.print("\r" + " ".repeat(lastLength) + "\r");
            terminal.flush();
        }
    }
}

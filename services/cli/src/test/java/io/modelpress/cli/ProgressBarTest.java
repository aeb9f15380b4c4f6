package io.modelpress.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Without a terminal, progress comes as plain lines: enough to see long work move, never a flood. */
class ProgressBarTest {

    private final AtomicLong now = new AtomicLong();
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    private ProgressBar lines() {
        return new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), ProgressBar.Mode.LINES, now::get);
    }

    private List<String> printed() {
        return bytes.toString(StandardCharsets.UTF_8).lines().toList();
    }

    private void advance(double seconds) {
        now.addAndGet((long) (seconds * TimeUnit.SECONDS.toNanos(1)));
    }

    @Test
    void longWorkPrintsALineEveryFewSecondsAndTheEnd() {
        try (ProgressBar bar = lines()) {
            for (int i = 0; i < 120; i++) { // two minutes of planning, a report every second
                bar.progress("plan " + (i / 10 + 1) + "/12", i / 200.0, "int8-dynamic");
                advance(1);
            }
            bar.progress("done", 1, "int8-dynamic");
        }
        List<String> lines = printed();
        assertTrue(lines.size() >= 120 / 6 && lines.size() <= 120 / 5 + 2, "about one line per 5 s: " + lines);
        assertTrue(lines.get(0).startsWith("progress 0s:   0% plan 1/12 - int8-dynamic"), lines.get(0));
        assertTrue(lines.get(lines.size() - 1).contains("100% done"), lines.toString());
        assertTrue(lines.stream().anyMatch(line -> line.startsWith("progress 1m") && line.contains("plan ")), lines.toString());
        lines.forEach(line -> assertFalse(line.contains("\r"), "no carriage returns in a log: " + line));
    }

    @Test
    void quickWorkMovingByATenthPrintsSoonerButNotInABurst() {
        try (ProgressBar bar = lines()) {
            bar.progress("load", 0, "");
            advance(0.2);
            bar.progress("step 1/2", 0.4, ""); // a big move, but too soon after the last line
            advance(1.0);
            bar.progress("step 2/2", 0.6, ""); // a tenth further and a second later: shown
            advance(0.1);
            bar.progress("verify", 0.85, "");
        }
        assertEquals(List.of("progress 0s:   0% load", "progress 1s:  60% step 2/2", "progress 1s:  85% verify"), printed(),
                "the last state is shown when the work stops short of done");
    }

    @Test
    void aStepThatReportsNothingForLongIsShownStillRunning() {
        try (ProgressBar bar = lines()) {
            bar.progress("verify", 0.85, "fidelity in ONNX Runtime");
            for (int second = 0; second < 40; second++) { // the scheduler ticks once a second
                advance(1);
                bar.tick();
            }
            bar.progress("done", 1, "");
            advance(20);
            bar.tick();
        }
        assertEquals(List.of("progress 0s:  85% verify - fidelity in ONNX Runtime",
                "progress 15s:  85% verify - fidelity in ONNX Runtime (still running)",
                "progress 30s:  85% verify - fidelity in ONNX Runtime (still running)",
                "progress 40s: 100% done"), printed(), "nothing after the end");
    }

    @Test
    void quietPrintsNothing() {
        try (ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), ProgressBar.Mode.SILENT,
                now::get)) {
            bar.progress("load", 0, "x");
            bar.progress("done", 1, "");
        }
        assertEquals(0, bytes.size());
    }
}

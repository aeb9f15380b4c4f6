package io.modelpress.localstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A child JVM started by another tool: its own settings, its output in a log, stopped on demand. */
class ChildProcessTest {

    @TempDir
    Path work;

    /**
     * The child's main: writes one environment variable to a file, then waits to be stopped. The file
     * appears whole (written aside, then moved) so the parent never reads it half written.
     */
    public static final class WriteEnvironment {
        public static void main(String[] args) throws Exception {
            Path out = Path.of(args[0]);
            Path partial = out.resolveSibling(out.getFileName() + ".partial");
            Files.writeString(partial, String.valueOf(System.getenv("MODELPRESS_CHILD_SETTING")));
            Files.move(partial, out, StandardCopyOption.ATOMIC_MOVE);
            System.out.println("written");
            Thread.sleep(Duration.ofMinutes(5).toMillis());
        }
    }

    @Test
    void aChildGetsItsEnvironmentAndStopsWhenAsked() throws Exception {
        Path out = work.resolve("setting.txt");
        ChildProcess child = ChildProcess.start("test child", List.of(testClasses()), List.of("-Xmx32m"),
                WriteEnvironment.class.getName(), List.of(out.toString()), Map.of("MODELPRESS_CHILD_SETTING", "on"), work,
                work.resolve("child.log"));
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!Files.exists(out) && System.nanoTime() < deadline) {
                child.checkRunning();
                Thread.sleep(50);
            }
            assertTrue(Files.exists(out), () -> "the child wrote nothing; its log: " + ChildProcess.tail(child.log(), 20));
            assertEquals("on", Files.readString(out));
            assertTrue(child.isAlive());
        } finally {
            child.stop(Duration.ofSeconds(5));
        }
        assertFalse(child.isAlive());
        assertTrue(Files.readString(child.log()).contains("written"), "the child's output goes to its log");
    }

    private static Path testClasses() throws URISyntaxException {
        return Path.of(ChildProcessTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }
}

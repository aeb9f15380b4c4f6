package io.modelpress.engine.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.ChainStep;
import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.CompressionReport;
import io.modelpress.engine.CompressionRequest;
import io.modelpress.engine.ProgressListener;
import io.modelpress.engine.StepLimit;
import io.modelpress.engine.TestProfiles;
import io.modelpress.model.LoadLimits;
import io.modelpress.model.SaveOptions;
import io.modelpress.testkit.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every plugin call runs under a time limit: a step that hangs fails with the limit and never holds the job. */
class StepTimeLimitTest {

    private static final String HOLD = "modelpress.test.hold";

    /** Waits while the hold file exists, deaf to cancellation and interrupts; writes files while it runs and after. */
    private static final String HANGING_BODY = """
            java.nio.file.Path hold = java.nio.file.Path.of(System.getProperty("%s"));
            try {
                java.nio.file.Files.writeString(context.tempDir().resolve("early.bin"), "x");
                while (java.nio.file.Files.exists(hold)) {
                    context.progress(0.5, "hanging");
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException ignored) {
                        // a plugin that swallows interrupts
                    }
                }
                java.nio.file.Files.writeString(context.tempDir().resolve("late.bin"), "x");
            } catch (java.io.IOException e) {
                throw new PluginException(e.toString());
            }
            context.progress(1, "finally done");
            return PluginResult.builder(model).build();
            """.formatted(HOLD);

    /** Waits while the hold file exists, checking cancellation as a well-behaved plugin does. */
    private static final String COOPERATIVE_BODY = """
            java.nio.file.Path hold = java.nio.file.Path.of(System.getProperty("%s"));
            while (java.nio.file.Files.exists(hold)) {
                context.checkCancelled();
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    throw new java.util.concurrent.CancellationException("interrupted");
                }
            }
            return PluginResult.builder(model).build();
            """.formatted(HOLD);

    @TempDir
    Path temp;

    private Path hold;
    private PluginRegistry registry;

    @BeforeEach
    void plugins() throws IOException {
        hold = Files.writeString(temp.resolve("hold"), "while this file exists");
        System.setProperty(HOLD, hold.toString());
        Path plugins = temp.resolve("plugins");
        PluginJars.build(plugins, "hang.jar", "Hang", PluginJars.plugin("Hang", "test-hang", "PluginSpi.VERSION",
                HANGING_BODY));
        PluginJars.build(plugins, "polite.jar", "Polite", PluginJars.plugin("Polite", "test-polite", "PluginSpi.VERSION",
                COOPERATIVE_BODY));
        registry = PluginRegistry.discover(getClass().getClassLoader(), Optional.of(plugins), PluginJars.allowAll(plugins));
    }

    @AfterEach
    void release() throws IOException {
        Files.deleteIfExists(hold); // lets a left-behind plugin thread end
        System.clearProperty(HOLD);
    }

    @Test
    void aHangingStepFailsWithItsLimitIsLeftBehindAndTheNextJobRuns() throws Exception {
        Path steps = temp.resolve("steps");
        CompressionEngine engine = new CompressionEngine(registry, LoadLimits.DEFAULT, Optional.of(steps),
                new StepLimit(Duration.ofSeconds(1), Duration.ofMillis(500)));
        AtomicInteger hangingReports = new AtomicInteger();
        ProgressListener listener = (stage, fraction, message) -> {
            if (message.equals("hanging") || message.equals("finally done")) {
                hangingReports.incrementAndGet();
            }
        };

        CompressionReport report = compress(engine, List.of(ChainStep.parse("test-hang"), ChainStep.parse("graph-cleanup")),
                "out-1", listener);
        CompressionReport.StepReport hung = report.steps().get(0);
        assertEquals("failed", hung.status());
        assertEquals(Optional.of("exceeded its 1 s time limit; it did not stop within 500 ms of being cancelled and was"
                + " left behind on its thread"), hung.error());
        assertEquals("partial", report.status());
        assertEquals("done", report.steps().get(1).status(), "the chain goes on with the last good model");
        assertTrue(hangingReports.get() > 0, "the hanging step reported progress while it ran");

        CompressionReport next = compress(engine, List.of(ChainStep.parse("graph-cleanup")), "out-2", listener);
        assertEquals("done", next.steps().get(0).status(), "the next job runs while the left-behind thread still hangs");

        int reportsWhenLeft = hangingReports.get();
        Thread leftBehind = Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().equals("modelpress-step-1-test-hang")).findFirst().orElseThrow();
        assertTrue(leftBehind.isDaemon(), "a thread that never returns must not keep the process alive");
        Files.delete(hold);
        leftBehind.join(TimeUnit.SECONDS.toMillis(30));
        assertEquals(reportsWhenLeft, hangingReports.get(), "a left-behind step reports nothing more");
        assertEquals(List.of(), files(steps), "the left-behind step's files are removed when it ends");
    }

    @Test
    void aCooperativeStepIsCancelledAtItsLimit() throws IOException {
        CompressionEngine engine = new CompressionEngine(registry, LoadLimits.DEFAULT, Optional.of(temp.resolve("steps")),
                new StepLimit(Duration.ofMillis(1500), Duration.ofSeconds(10)));
        CompressionReport report = compress(engine, List.of(ChainStep.parse("test-polite")), "out", ProgressListener.NONE);
        assertEquals(Optional.of("exceeded its 1500 ms time limit and stopped when cancelled"), report.steps().get(0).error());
        assertEquals(List.of(), files(temp.resolve("steps")));
    }

    @Test
    void cancellingTheJobLeavesAHangingStepBehind() throws Exception {
        CompressionEngine engine = new CompressionEngine(registry, LoadLimits.DEFAULT, Optional.of(temp.resolve("steps")),
                new StepLimit(Duration.ofHours(1), Duration.ofMillis(300)));
        CompletableFuture<Boolean> hanging = new CompletableFuture<>();
        CompletableFuture<CompressionReport> job = CompletableFuture.supplyAsync(() -> compress(engine,
                List.of(ChainStep.parse("test-hang")), "out", (stage, fraction, message) -> {
                    if (message.equals("hanging")) {
                        hanging.complete(true);
                    }
                }));
        hanging.get(60, TimeUnit.SECONDS);
        engine.cancel();
        Throwable ended = assertThrows(java.util.concurrent.ExecutionException.class, () -> job.get(60, TimeUnit.SECONDS))
                .getCause();
        assertTrue(ended instanceof CancellationException, ended.toString());
        assertEquals("compression cancelled after step 1", ended.getMessage());
    }

    private CompressionReport compress(CompressionEngine engine, List<ChainStep> chain, String out,
            ProgressListener listener) {
        Path model = temp.resolve("in/model.onnx");
        if (!Files.exists(model)) {
            TestModels.mlp(8, 16, 4, 1).save(model, SaveOptions.inline());
        }
        return engine.compress(new CompressionRequest(model, TestProfiles.cpu(), chain, temp.resolve(out)), listener);
    }

    private static List<Path> files(Path folder) throws IOException {
        if (!Files.exists(folder)) {
            return List.of();
        }
        try (Stream<Path> walk = Files.walk(folder)) {
            return walk.filter(Files::isRegularFile).toList();
        }
    }
}

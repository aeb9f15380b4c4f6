package io.modelpress.engine;

import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginResult;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * One plugin call under a time limit, on a daemon thread of its own: a call that never returns is
 * left behind on that thread instead of holding the job. Cancellation is cooperative first (the
 * context says cancelled, the thread is interrupted), then the call is abandoned.
 */
final class StepRun {

    /** How often the waiting job looks at its own cancellation. */
    private static final long POLL_MILLIS = 100;

    /** The step ran over its limit; the message says whether it stopped when asked. */
    static final class OverTime extends RuntimeException {
        OverTime(String message) {
            super(message, null, false, false);
        }
    }

    private final String name;
    private final StepLimit limit;
    private final BooleanSupplier jobCancelled;
    private final AtomicBoolean stopAsked = new AtomicBoolean();
    private final AtomicBoolean over = new AtomicBoolean();
    private final AtomicBoolean abandoned = new AtomicBoolean();

    /**
     * @param name the step as messages name it, e.g. {@code step 2 low-rank}
     * @param jobCancelled whether the whole job was cancelled
     */
    StepRun(String name, StepLimit limit, BooleanSupplier jobCancelled) {
        this.name = name;
        this.limit = limit;
        this.jobCancelled = jobCancelled;
    }

    /** What the plugin's context answers to {@code isCancelled()}. */
    boolean cancelled() {
        return stopAsked.get() || jobCancelled.getAsBoolean();
    }

    /** Progress of the step, dropped once the step was left behind: a late report belongs to no job. */
    StepContext.ProgressReporter guard(StepContext.ProgressReporter progress) {
        return (fraction, message) -> {
            if (!abandoned.get() && !over.get()) {
                progress.report(fraction, message);
            }
        };
    }

    /**
     * Runs {@code call} and returns its result, or throws what it threw.
     *
     * @param leftBehind run by the plugin's thread if it ends after the step was abandoned (removes its files)
     * @throws OverTime when the step ran past its limit
     * @throws CancellationException when the job was cancelled and the plugin did not stop within the grace
     */
    PluginResult call(Callable<PluginResult> call, Runnable leftBehind) throws PluginException {
        FutureTask<PluginResult> task = new FutureTask<>(call);
        Thread thread = new Thread(() -> {
            try {
                task.run();
            } finally {
                if (abandoned.get()) {
                    leftBehind.run();
                }
            }
        }, "modelpress-" + name.replace(' ', '-'));
        thread.setDaemon(true); // a plugin that never returns must not keep the process alive
        thread.start();
        long deadline = System.nanoTime() + limit.limit().toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            try {
                return unwrap(task, Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), POLL_MILLIS)));
            } catch (TimeoutException e) {
                if (jobCancelled.getAsBoolean()) {
                    return stop(task, thread, false);
                }
                if (System.nanoTime() - deadline >= 0) {
                    return stop(task, thread, true);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // the job's own thread is stopping: so does the step
                return stop(task, thread, false);
            }
        }
    }

    /** Asks the plugin to stop, waits the grace, then leaves it behind. */
    private PluginResult stop(FutureTask<PluginResult> task, Thread thread, boolean overTime) throws PluginException {
        over.set(overTime);
        stopAsked.set(true);
        thread.interrupt();
        String limitText = "exceeded its " + StepLimit.text(limit.limit()) + " time limit";
        try {
            PluginResult result = unwrap(task, Math.max(1, limit.grace().toMillis()));
            if (overTime) {
                throw new OverTime(limitText + " and stopped when cancelled");
            }
            return result;
        } catch (TimeoutException | InterruptedException e) {
            abandoned.set(true);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            String stuck = " did not stop within " + StepLimit.text(limit.grace()) + " of being cancelled and was"
                    + " left behind on its thread";
            if (overTime) {
                throw new OverTime(limitText + "; it" + stuck);
            }
            throw new CancellationException(name + stuck);
        } catch (RuntimeException | PluginException | Error e) {
            if (overTime && !(e instanceof OutOfMemoryError)) {
                throw new OverTime(limitText + " and stopped when cancelled");
            }
            throw e;
        }
    }

    private static PluginResult unwrap(FutureTask<PluginResult> task, long millis)
            throws TimeoutException, InterruptedException, PluginException {
        try {
            return task.get(millis, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof PluginException plugin) {
                throw plugin;
            }
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw new PluginException("the plugin failed with " + cause);
        }
    }
}

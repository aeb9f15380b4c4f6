package io.modelpress.localstack;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM with a class path of its own, its output in a log file (never a pipe that could fill
 * and block it). Its standard input stays open: {@link ParentWatch} in the child ends it when the
 * parent dies without a chance to stop it. The local stack starts its servers with it; other
 * tools start their own children (a service under test, a demo's service) the same way.
 */
public final class ChildProcess {

    private static final int TAIL_LINES = 40;

    private final String name;
    private final Process process;
    private final Path log;

    private ChildProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /**
     * Starts {@code mainClass} in a new JVM.
     *
     * @param classPath the child's class path; a {@link ParentWatch} entry is added when this library is a file
     */
    static ChildProcess start(String name, List<Path> classPath, List<String> jvmOptions, String mainClass,
            List<String> arguments, Path workFolder, Path log) throws IOException {
        return start(name, classPath, jvmOptions, mainClass, arguments, Map.of(), workFolder, log);
    }

    /**
     * Starts {@code mainClass} in a new JVM with these environment variables added to this one's.
     *
     * @param classPath the child's class path; a {@link ParentWatch} entry is added when this library is a file
     */
    public static ChildProcess start(String name, List<Path> classPath, List<String> jvmOptions, String mainClass,
            List<String> arguments, Map<String, String> environment, Path workFolder, Path log) throws IOException {
        Objects.requireNonNull(name, "name is null");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        List<Path> entries = new ArrayList<>(classPath);
        Path self = ParentWatch.location();
        if (self != null) {
            entries.add(self);
            command.add("-cp");
            command.add(join(entries));
            command.add(ParentWatch.class.getName());
        } else {
            command.add("-cp");
            command.add(join(entries));
        }
        command.add(mainClass);
        command.addAll(arguments);
        Files.createDirectories(log.getParent());
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(workFolder.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().putAll(environment);
        return new ChildProcess(name, builder.start(), log);
    }

    /** Runs a child to its end, for a command-line tool; fails with the log's tail unless it exits with 0. */
    static void run(String name, List<Path> classPath, List<String> jvmOptions, String mainClass, List<String> arguments,
            Path workFolder, Path log, Duration timeout) throws IOException {
        ChildProcess child = start(name, classPath, jvmOptions, mainClass, arguments, workFolder, log);
        try {
            if (!child.process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                child.stop(Duration.ofSeconds(2));
                throw child.failure("did not finish within " + timeout.toSeconds() + " s");
            }
        } catch (InterruptedException e) {
            child.stop(Duration.ofSeconds(2));
            Thread.currentThread().interrupt();
            throw new LocalStackException(name + " was interrupted", e);
        }
        if (child.process.exitValue() != 0) {
            throw child.failure("exited with code " + child.process.exitValue());
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    public Path log() {
        return log;
    }

    /** Fails when the child has exited: it was meant to keep running. */
    public void checkRunning() {
        if (!process.isAlive()) {
            throw failure("exited with code " + process.exitValue() + " while starting");
        }
    }

    /** An error that names the child, what went wrong and the end of its log. */
    public LocalStackException failure(String what) {
        return new LocalStackException(name + " " + what + " (log " + log + "); its last lines:\n" + tail(log, TAIL_LINES));
    }

    /** Asks the child to stop (SIGTERM, so the broker shuts down cleanly), then kills it after {@code grace}. */
    public void stop(Duration grace) {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** The last {@code lines} lines of a log file, read from its end so a large log costs nothing. */
    public static String tail(Path file, int lines) {
        if (!Files.isRegularFile(file)) {
            return "(no log written)";
        }
        try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
            long length = in.length();
            int size = (int) Math.min(length, 64 * 1024);
            byte[] bytes = new byte[size];
            in.seek(length - size);
            in.readFully(bytes);
            List<String> all = new String(bytes, StandardCharsets.UTF_8).lines().toList();
            List<String> last = all.subList(Math.max(0, all.size() - lines), all.size());
            return last.isEmpty() ? "(the log is empty)" : String.join("\n", last);
        } catch (IOException e) {
            return "(cannot read the log: " + e.getMessage() + ")";
        }
    }

    private static String join(List<Path> entries) {
        return String.join(File.pathSeparator, entries.stream().map(Path::toString).toList());
    }
}

package io.modelpress.inference;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.Message;
import io.modelpress.model.ModelException;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.TensorData;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The peak memory of a model's ONNX Runtime session, measured in a fresh JVM ({@link SessionMemoryProbe}) so that
 * nothing else this process holds or frees (other sessions, the heap, earlier candidates) blurs the figure: the
 * growth of the child's peak resident memory while it creates the session and runs one inference on generated
 * inputs at the given batch size, less the same growth for a one-node graph (the runtime's fixed cost per session).
 * Linux only: it reads and resets the kernel's high-water mark of the child.
 *
 * @param peakBytes what the session took beyond the runtime's fixed cost: weights as the runtime holds them,
 *     activations, workspace and the transient copies of loading
 * @param fixedBytes the runtime's fixed cost per session, measured the same way and subtracted
 */
public record SessionMemory(long peakBytes, long fixedBytes) {

    /** Symbolic dims other than the batch, tried in turn as for generated judging inputs. */
    static final int[] SYMBOLIC_DIMS = {32, 512, 4096};

    /** How long a measurement may take before the child is ended: loading a large model is the slow part. */
    public static final Duration TIMEOUT = Duration.ofMinutes(3);

    /** How the figure was obtained, for reports. */
    public static final String METHOD = "peak resident memory (VmHWM) a fresh process gained creating the model's ONNX "
            + "Runtime CPU session (no arena, kernels already loaded) and running one inference, less what a one-node "
            + "graph's session gains; weights held by the session included";

    /**
     * Measures a model file (its external data beside it) on generated inputs.
     *
     * @throws ModelException with one line saying why, when it cannot be measured here
     */
    public static SessionMemory measure(Path modelFile, int batchSize, int threads) {
        return measure(modelFile, batchSize, threads, Optional.empty());
    }

    /**
     * Measures a model file (its external data beside it) running on {@code sample} when given (real data has the
     * shapes the model will see), else on generated inputs at {@code batchSize}.
     *
     * @throws ModelException with one line saying why, when it cannot be measured here
     */
    public static SessionMemory measure(Path modelFile, int batchSize, int threads,
            Optional<Map<String, TensorData>> sample) {
        Objects.requireNonNull(modelFile, "modelFile is null");
        Objects.requireNonNull(sample, "sample is null");
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
            throw new ModelException("session memory is measured from /proc, which this system ("
                    + System.getProperty("os.name") + ") does not have");
        }
        Path inputs = null;
        try {
            if (sample.isPresent()) {
                // Beside the model: in a job that is its work folder, counted and removed with it.
                inputs = Files.createTempFile(modelFile.toAbsolutePath().getParent(), ".memory-", ".inputs");
                SessionMemoryProbe.writeInputs(inputs, sample.get());
            }
            return run(modelFile, batchSize, threads, Optional.ofNullable(inputs));
        } catch (IOException e) {
            throw new ModelException("cannot hand the sample to the session memory probe: " + e.getMessage(), e);
        } finally {
            if (inputs != null) {
                inputs.toFile().delete();
            }
        }
    }

    private static SessionMemory run(Path modelFile, int batchSize, int threads, Optional<Path> inputs) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // A heap made resident at start, one GC thread and the light compiler: the JVM's own growth stays
                // out of the measured window.
                "-Xms48m", "-Xmx" + heapMegabytes(modelFile) + "m", "-XX:+AlwaysPreTouch", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", "-cp", classPath(), SessionMemoryProbe.class.getName(),
                modelFile.toAbsolutePath().toString(), Integer.toString(batchSize), Integer.toString(threads)));
        inputs.ifPresent(file -> command.add(file.toString()));
        String output;
        int exit;
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
            // glibc: a fixed threshold keeps every block of 64 KiB or more in its own mapping, returned when freed,
            // so no session's large allocations are served from memory an earlier one left behind.
            builder.environment().put("MALLOC_MMAP_THRESHOLD_", "65536");
            builder.environment().put("MALLOC_TRIM_THRESHOLD_", "131072");
            Process process = builder.start();
            process.getOutputStream().close();
            byte[] bytes;
            try (InputStream stream = process.getInputStream()) {
                // Small output: read to the end, which comes when the child exits or is ended.
                Thread reaper = new Thread(() -> waitOrEnd(process), "session-memory-timeout");
                reaper.setDaemon(true);
                reaper.start();
                bytes = stream.readAllBytes();
                reaper.join();
            }
            exit = process.waitFor();
            output = new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ModelException("cannot start a process to measure session memory: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ModelException("interrupted while measuring session memory", e);
        }
        String line = output.lines().filter(l -> l.startsWith(SessionMemoryProbe.PREFIX)).reduce((a, b) -> b)
                .orElseThrow(() -> new ModelException("the session memory probe ended (exit " + exit + ") without a figure: "
                        + output.lines().filter(l -> !l.isBlank()).reduce((a, b) -> b).orElse("no output")));
        String figures = line.substring(SessionMemoryProbe.PREFIX.length());
        if (figures.startsWith("error=")) {
            throw new ModelException("cannot measure the session's memory: " + figures.substring("error=".length()));
        }
        try {
            String[] parts = figures.split(" ");
            long gross = Long.parseLong(parts[0].substring("peak=".length()));
            long fixed = Long.parseLong(parts[1].substring("fixed=".length()));
            return new SessionMemory(Math.max(0, gross - fixed), fixed);
        } catch (RuntimeException e) {
            throw new ModelException("the session memory probe answered '" + line + "', which is not its format", e);
        }
    }

    private static void waitOrEnd(Process process) {
        try {
            if (!process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** Room for the model parsed once on the heap (for its input shapes), with its external data. */
    private static long heapMegabytes(Path modelFile) {
        long bytes = 0;
        try (var files = java.nio.file.Files.list(modelFile.toAbsolutePath().getParent())) {
            bytes = files.filter(java.nio.file.Files::isRegularFile).mapToLong(file -> file.toFile().length()).sum();
        } catch (IOException | RuntimeException e) {
            bytes = 0;
        }
        return Math.min(8192, 64 + 3 * bytes / (1024 * 1024));
    }

    /** Just what the probe needs: this module, the model and SPI modules, the ONNX classes, protobuf, ONNX Runtime. */
    private static String classPath() {
        Set<String> entries = new LinkedHashSet<>();
        for (Class<?> type : List.of(SessionMemoryProbe.class, OnnxModel.class, TensorData.class, OnnxMl.class,
                Message.class, OrtSession.class)) {
            entries.add(location(type));
        }
        return String.join(java.io.File.pathSeparator, entries);
    }

    private static String location(Class<?> type) {
        CodeSource source = type.getProtectionDomain().getCodeSource();
        if (source == null || source.getLocation() == null) {
            throw new ModelException("cannot tell where " + type.getName() + " was loaded from, to start the session "
                    + "memory probe with it");
        }
        try {
            return Path.of(source.getLocation().toURI()).toString();
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new ModelException("cannot start the session memory probe from " + source.getLocation(), e);
        }
    }
}

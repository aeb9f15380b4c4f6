package io.modelpress.testkit;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** What the benchmark mains start with: the model they measure and a line about the machine. */
public final class BenchSetup {

    /** The sentence-embedding transformer most benchmarks measure, as bench/models/fetch-models.sh stores it. */
    public static final String MINILM = "bench/models/cache/minilm-l6.onnx";

    private BenchSetup() {
    }

    /** The model file named by the first argument, else MiniLM; a clear error when it is missing. */
    public static Path model(String[] args) {
        Path file = Path.of(args.length > 0 ? args[0] : MINILM);
        if (!Files.exists(file)) {
            throw new IllegalArgumentException(file + " not found; run bench/models/fetch-models.sh");
        }
        return file;
    }

    /** Prints Java's version, the cores, the heap and the load, so that figures are read against the machine. */
    public static void printMachine() {
        System.out.printf(Locale.ROOT, "java %s, %d cores, max heap %d MiB, load average %.1f%n",
                System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(),
                Runtime.getRuntime().maxMemory() >> 20, ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }
}

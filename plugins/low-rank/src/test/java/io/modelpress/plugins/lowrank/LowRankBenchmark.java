package io.modelpress.plugins.lowrank;

import io.modelpress.inference.Fidelity;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.BenchSetup;
import io.modelpress.testkit.RealInputs;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.PluginTestContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Times the truncated SVD of a 1536×384 layer (a MiniLM feed-forward output weight, and a random
 * Gaussian matrix of the same size) and the whole plugin on MiniLM, with the reconstruction error
 * measured from the factors. Not a test: run it by hand, results go to bench/low-rank.md.
 *
 * <pre>
 * ./mvnw -q -o -pl plugins/low-rank test-compile exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=io.modelpress.plugins.lowrank.LowRankBenchmark [-Dexec.args="path/to/minilm-l6.onnx runs"]
 * </pre>
 */
public final class LowRankBenchmark {

    /** The SVD runs on one thread: its CPU time is what it costs whatever else the machine runs. */
    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    private LowRankBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path modelFile = BenchSetup.model(args);
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        BenchSetup.printMachine();
        OnnxModel model = OnnxModel.load(modelFile);
        Weight ffn = model.weights().all().stream()
                .filter(w -> Arrays.equals(w.dims(), new long[] {1536, 384}) && w.onlyUsedAs("MatMul", 1))
                .findFirst().orElseThrow(() -> new IllegalStateException("no 1536×384 MatMul weight in " + modelFile));
        float[] real = Tensors.toFloats(model.weights().tensor(ffn.ref()));
        float[] gaussian = new float[real.length];
        SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < gaussian.length; i++) {
            gaussian[i] = (float) (Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble()));
        }
        System.out.println("\n| matrix | energy | rank | params before → after | rel. error (measured) | decompose ms wall / CPU (median) | truncate ms wall / CPU (median) |");
        System.out.println("| --- | --- | --- | --- | --- | --- | --- |");
        for (double energy : new double[] {0.5, 0.8, 0.95}) {
            layer("MiniLM " + ffn.name(), real, energy, runs);
        }
        for (double energy : new double[] {0.5, 0.95}) {
            layer("Gaussian 1536×384", gaussian, energy, runs);
        }
        wholeModel(model, runs);
        mnist();
    }

    /** The shipped MNIST MLP at several settings: parameters, bytes and held-out top-1 accuracy. */
    private static void mnist() throws Exception {
        OnnxModel model = MnistModels.mlp();
        LowRankPlugin plugin = new LowRankPlugin();
        Path temp = Files.createTempDirectory("low-rank-mnist");
        double before = MnistModels.accuracy(model, MnistModels.TRAIN, 10_000);
        System.out.println("\n| MNIST MLP | layers factored | parameters before → after | bytes before → after"
                + " | held-out top-1 before → after |");
        System.out.println("| --- | --- | --- | --- | --- |");
        for (Map<String, String> options : List.of(Map.of("energy", "0.8"), Map.of("energy", "0.9"),
                Map.of("energy", "0.95"), Map.of("rank-ratio", "0.25"), Map.of("rank-ratio", "0.1"))) {
            PluginResult result = plugin.apply(model, PluginOptions.resolve(plugin.options(), options),
                    PluginTestContext.in(temp));
            System.out.printf(Locale.ROOT, "| %s | %.0f | %.0f → %.0f | %d → %d | %.4f → %.4f |%n", options,
                    result.figures().get("layers-factored"), result.figures().get("parameters-before"),
                    result.figures().get("parameters-after"), model.serializedSize(), result.model().serializedSize(),
                    before, MnistModels.accuracy(result.model(), MnistModels.TRAIN, 10_000));
        }
    }

    private static void layer(String name, float[] values, double energy, int runs) {
        int rows = 1536;
        int cols = 384;
        double[] decompose = new double[runs];
        double[] decomposeCpu = new double[runs];
        double[] truncate = new double[runs];
        double[] truncateCpu = new double[runs];
        TruncatedSvd.Factors factors = null;
        for (int run = -2; run < runs; run++) { // two warm-up runs
            long start = System.nanoTime();
            long startCpu = THREADS.getCurrentThreadCpuTime();
            TruncatedSvd.Spectrum spectrum = TruncatedSvd.decompose(values, rows, cols);
            long middle = System.nanoTime();
            long middleCpu = THREADS.getCurrentThreadCpuTime();
            factors = spectrum.truncate(RankRule.energy(energy).choose(spectrum));
            long end = System.nanoTime();
            long endCpu = THREADS.getCurrentThreadCpuTime();
            if (run >= 0) {
                decompose[run] = (middle - start) / 1e6;
                decomposeCpu[run] = (middleCpu - startCpu) / 1e6;
                truncate[run] = (end - middle) / 1e6;
                truncateCpu[run] = (endCpu - middleCpu) / 1e6;
            }
        }
        int r = factors.rank();
        System.out.printf(Locale.ROOT, "| %s | %.2f | %d | %d → %d | %.4f (%.4f) | %.0f / %.0f | %.0f / %.0f |%n", name,
                energy, r, (long) rows * cols, (long) r * (rows + cols), measuredError(values, factors, rows, cols),
                factors.relativeError(), median(decompose), median(decomposeCpu), median(truncate), median(truncateCpu));
    }

    /** ||W − first·second||_F / ||W||_F, computed from the factors. */
    private static double measuredError(float[] w, TruncatedSvd.Factors factors, int rows, int cols) {
        int r = factors.rank();
        float[] a = factors.first();
        float[] b = factors.second();
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double sum = 0;
                for (int t = 0; t < r; t++) {
                    sum += (double) a[i * r + t] * b[t * cols + j];
                }
                double v = w[i * cols + j];
                diff += (v - sum) * (v - sum);
                norm += v * v;
            }
        }
        return Math.sqrt(diff / norm);
    }

    private static void wholeModel(OnnxModel model, int runs) throws Exception {
        LowRankPlugin plugin = new LowRankPlugin();
        Path temp = Files.createTempDirectory("low-rank-bench");
        System.out.println("\n| whole MiniLM | layers factored | parameters before → after | ms (median) | cosine mean / min | skipped (first reason) |");
        System.out.println("| --- | --- | --- | --- | --- | --- |");
        for (Map<String, String> options : List.of(Map.of("energy", "0.95"), Map.of("energy", "0.8"),
                Map.of("rank-ratio", "0.25"))) {
            double[] times = new double[Math.max(1, runs / 2)];
            PluginResult result = null;
            for (int run = -1; run < times.length; run++) {
                long start = System.nanoTime();
                result = plugin.apply(model, PluginOptions.resolve(plugin.options(), options), PluginTestContext.in(temp));
                if (run >= 0) {
                    times[run] = (System.nanoTime() - start) / 1e6;
                }
            }
            OutputFidelity fidelity = fidelity(model, result.model());
            System.out.printf(Locale.ROOT, "| %s | %.0f | %.0f → %.0f | %.0f | %.4f / %.4f | %s |%n", options,
                    result.figures().get("layers-factored"), result.figures().get("parameters-before"),
                    result.figures().get("parameters-after"), median(times), fidelity.meanCosine(),
                    fidelity.minCosine(), result.skipped().isEmpty() ? "" : result.skipped().get(0).reason());
        }
    }

    /** Eight sentences' worth of random token ids (1000..29999), all attended, one segment. */
    private static OutputFidelity fidelity(OnnxModel original, OnnxModel compressed) {
        List<Map<String, TensorData>> samples = RealInputs.tokenIds(7, 8, 32);
        try (OrtRunner before = OrtRunner.open(original); OrtRunner after = OrtRunner.open(compressed)) {
            return Fidelity.compare(before, after, samples).get(0);
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}

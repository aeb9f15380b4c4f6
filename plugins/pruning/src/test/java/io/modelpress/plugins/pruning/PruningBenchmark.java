package io.modelpress.plugins.pruning;

import io.modelpress.inference.Fidelity;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.PluginTestContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The speed of global magnitude selection on a large transformer (MiniLM-L6), against sorting every
 * magnitude, with the output fidelity on real sentences beside it. Prints Markdown. Not a test:
 * bench/pruning.sh runs it (bench/chain.sh measures pruning on MNIST and real CNNs, packaged).
 */
public final class PruningBenchmark {

    private static final int RUNS = 5;
    private static final Path LARGE = Path.of("bench/models/cache/minilm-l6.onnx");
    /** Plain English whose words the MiniLM vocabulary holds whole. */
    private static final List<String> SENTENCES = List.of(
            "the cat sat on the mat and looked out of the window",
            "a model that is smaller runs faster on a phone",
            "she bought fresh bread at the market this morning",
            "the train to the city leaves every hour",
            "he plays the piano better than anyone in his family",
            "rain is expected over the weekend in the north",
            "the museum opens at ten and closes at six",
            "we should measure what we lose when we shrink a network");

    private final Path temp;

    private PruningBenchmark(Path temp) {
        this.temp = temp;
    }

    public static void main(String[] args) throws Exception {
        Path temp = Files.createTempDirectory("pruning-bench-");
        System.out.println("load average at start: " + Files.readString(Path.of("/proc/loadavg")).strip());
        PruningBenchmark bench = new PruningBenchmark(temp);
        Path large = args.length > 0 ? Path.of(args[0]) : LARGE;
        if (Files.isRegularFile(large)) {
            bench.speed(large);
        } else {
            System.out.println("\n(no " + large + ": run bench/models/fetch-models.sh first)");
        }
        System.out.println("\nload average at end: " + Files.readString(Path.of("/proc/loadavg")).strip());
    }

    private void speed(Path file) throws Exception {
        OnnxModel model = OnnxModel.load(file);
        MagnitudePruningPlugin magnitude = new MagnitudePruningPlugin();
        Timed pruned = prune(magnitude, model, Map.of("sparsity", "0.5", "measure-packed", "false"));
        Timed measured = prune(magnitude, model, Map.of("sparsity", "0.5"));
        Timed lamp = prune(magnitude, model, Map.of("sparsity", "0.5", "scope", "lamp", "measure-packed", "false"));
        long eligible = pruned.result().figures().get("eligible-weights").longValue();
        List<float[]> values = new ArrayList<>();
        for (Weight weight : model.weights().all()) {
            if (weight.rank() == 2 && weight.elements() >= 1024 && weight.type().isFloatingPoint()) {
                values.add(Tensors.toFloats(model.weights().tensor(weight.ref())));
            }
        }
        double[] select = new double[RUNS];
        double[] sort = new double[RUNS];
        for (int r = 0; r < RUNS; r++) {
            List<float[]> copies = values.stream().map(float[]::clone).toList();
            long k = Math.round(0.5 * copies.stream().mapToLong(v -> v.length).sum());
            long start = System.nanoTime();
            MagnitudeSelect.zeroSmallest(copies, k, MagnitudeSelect.kthSmallest(copies, k));
            select[r] = (System.nanoTime() - start) / 1e6;
            start = System.nanoTime();
            sortedThreshold(values, k);
            sort[r] = (System.nanoTime() - start) / 1e6;
        }
        System.out.println("\n### Global magnitude selection speed: " + file.getFileName() + " ("
                + String.format(Locale.ROOT, "%,d", eligible) + " eligible weights in "
                + pruned.result().figures().get("tensors-pruned").intValue() + " tensors), sparsity 0.5\n");
        System.out.println("| what | median ms of " + RUNS + " | runs |");
        System.out.println("|---|---:|---|");
        System.out.printf(Locale.ROOT, "| whole magnitude-pruning step (read, select, zero, write tensors; no packed-size measure) | %.0f | %s |%n",
                pruned.millis(), Arrays.toString(pruned.runs()));
        System.out.printf(Locale.ROOT, "| whole step with the packed-size measure (zstd level %d of the model before and after) | %.0f | %s |%n",
                PackedSize.LEVEL, measured.millis(), Arrays.toString(measured.runs()));
        System.out.printf(Locale.ROOT, "| whole step, scope=lamp (sorts each layer for its scores) | %.0f | %s |%n",
                lamp.millis(), Arrays.toString(lamp.runs()));
        System.out.printf(Locale.ROOT, "| histogram select + zeroing only (parallel, primitive) | %.0f | %s |%n",
                median(select), Arrays.toString(rounded(select)));
        System.out.printf(Locale.ROOT, "| baseline: copy all magnitudes into one float[] and Arrays.sort | %.0f | %s |%n",
                median(sort), Arrays.toString(rounded(sort)));
        quality(file, model, magnitude);
    }

    /** Fidelity of the pruned transformer on real sentences (whole words of its vocabulary), sparsity by sparsity. */
    private void quality(Path file, OnnxModel model, MagnitudePruningPlugin magnitude) throws Exception {
        Path vocabulary = file.resolveSibling(file.getFileName().toString().replace(".onnx", "-vocab.txt"));
        if (!Files.isRegularFile(vocabulary)) {
            System.out.println("\n(no " + vocabulary + ": quality on sentences not measured)");
            return;
        }
        List<Map<String, TensorData>> sentences = sentences(Files.readAllLines(vocabulary));
        System.out.println("\n### Quality beside it: " + file.getFileName() + " pruned without retraining, "
                + sentences.size() + " English sentences\n");
        System.out.println("| scope | sparsity | output | mean cosine | min cosine | relative error |");
        System.out.println("|---|---:|---|---:|---:|---:|");
        for (String scope : List.of("global", "per-layer", "lamp")) {
            for (String sparsity : List.of("0.1", "0.2", "0.3", "0.5")) {
                PluginResult result = magnitude.apply(model, PluginOptions.resolve(magnitude.options(),
                        Map.of("sparsity", sparsity, "scope", scope, "measure-packed", "false")), PluginTestContext.in(temp));
                try (OrtRunner a = OrtRunner.open(model); OrtRunner b = OrtRunner.open(result.model())) {
                    for (OutputFidelity f : Fidelity.compare(a, b, sentences)) {
                        System.out.printf(Locale.ROOT, "| %s | %s | %s | %.4f | %.4f | %.3f |%n", scope, sparsity,
                                f.output(), f.meanCosine(), f.minCosine(), f.relativeError());
                    }
                }
            }
        }
    }

    /** BERT-style inputs: [CLS] words [SEP], whole words looked up in the vocabulary, unknown ones as [UNK]. */
    private static List<Map<String, TensorData>> sentences(List<String> vocabulary) {
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < vocabulary.size(); i++) {
            ids.putIfAbsent(vocabulary.get(i), i);
        }
        List<Map<String, TensorData>> samples = new ArrayList<>();
        for (String sentence : SENTENCES) {
            String[] words = sentence.split(" ");
            long[] tokens = new long[words.length + 2];
            tokens[0] = ids.get("[CLS]");
            for (int w = 0; w < words.length; w++) {
                tokens[w + 1] = ids.getOrDefault(words[w], ids.get("[UNK]"));
            }
            tokens[tokens.length - 1] = ids.get("[SEP]");
            long[] shape = {1, tokens.length};
            long[] mask = new long[tokens.length];
            Arrays.fill(mask, 1);
            samples.add(Map.of("input_ids", TensorData.ofLongs(shape, tokens),
                    "attention_mask", TensorData.ofLongs(shape, mask),
                    "token_type_ids", TensorData.ofLongs(shape, new long[tokens.length])));
        }
        return samples;
    }

    private record Timed(PluginResult result, double millis, double[] runs) {
    }

    private Timed prune(CompressionPlugin plugin, OnnxModel model, Map<String, String> options) throws Exception {
        PluginOptions resolved = PluginOptions.resolve(plugin.options(), options);
        double[] runs = new double[RUNS];
        PluginResult result = null;
        for (int r = 0; r < RUNS; r++) {
            long start = System.nanoTime();
            result = plugin.apply(model, resolved, PluginTestContext.in(Files.createDirectories(temp.resolve("step"))));
            runs[r] = (System.nanoTime() - start) / 1e6;
        }
        return new Timed(result, median(runs), rounded(runs));
    }

    private static float sortedThreshold(List<float[]> values, long k) {
        int total = values.stream().mapToInt(v -> v.length).sum();
        float[] all = new float[total];
        int at = 0;
        for (float[] v : values) {
            for (float x : v) {
                all[at++] = Math.abs(x);
            }
        }
        Arrays.sort(all);
        return all[(int) k - 1];
    }

    private static double median(double[] runs) {
        double[] sorted = runs.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static double[] rounded(double[] runs) {
        return Arrays.stream(runs).map(Math::rint).toArray();
    }
}

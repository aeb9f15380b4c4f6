package io.modelpress.plugins.quantization;

import io.modelpress.inference.BenchmarkSettings;
import io.modelpress.inference.ModelBenchmark;
import io.modelpress.inference.OrtRunner;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.SaveOptions;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.QuantizedFormat;
import io.modelpress.spi.TensorData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The sentence-embedding transformer (bench/models/cache/minilm-l6.onnx): size, mean-pooled
 * embedding cosine on real sentences, processing time, and batch-1 latency at sequence 128
 * against the peer int8 model, all in one process.
 */
final class MiniLmBenchmark {

    static final List<String> SENTENCES = List.of(
            "The quick brown fox jumps over the lazy dog.",
            "A man is playing a guitar on the stage.",
            "The stock market fell sharply after the announcement of new tariffs.",
            "She forgot her umbrella and got soaked walking home from the station.",
            "Quantum computers use qubits that can exist in superposition.",
            "How do I reset my password if I no longer have access to my email?",
            "The recipe calls for two cups of flour, one egg and a pinch of salt.",
            "Electric cars are becoming cheaper to buy and to maintain.",
            "The committee postponed its decision until the next quarterly meeting.",
            "Children were building sandcastles on the beach while the tide came in.",
            "Machine learning models can be compressed with quantization and pruning.",
            "The museum's new exhibition features paintings from the early twentieth century.",
            "Heavy rain is expected across the northern regions tomorrow afternoon.",
            "Please send me the quarterly report before Friday.",
            "The patient was advised to rest and drink plenty of fluids.",
            "A cat is sleeping on the warm windowsill in the sun.",
            "The new smartphone has a larger battery and a faster processor.",
            "Our train was delayed by forty minutes because of a signal failure.",
            "He has been learning to play the piano for three years.",
            "The river flooded the village after days of continuous rain.",
            "Scientists discovered a new species of frog in the rainforest.",
            "What is the best way to learn a new language as an adult?",
            "The restaurant on the corner serves excellent Italian food.",
            "Solar panels convert sunlight directly into electricity.",
            "The football match ended in a draw after extra time.",
            "I would like to book a table for four people at eight o'clock.",
            "The software update fixed several security vulnerabilities.",
            "Bees play a crucial role in pollinating crops and wild plants.",
            "The novel tells the story of a family across three generations.",
            "Traffic on the highway was backed up for miles this morning.",
            "A woman is slicing tomatoes in the kitchen.",
            "The central bank raised interest rates by a quarter of a point.",
            "Regular exercise improves both physical and mental health.",
            "The hikers reached the summit just before sunset.",
            "Can you recommend a good book about the history of mathematics?",
            "The orchestra performed Beethoven's ninth symphony to a full house.");

    /** Sentences the automatic mode measures sensitivity on; none is among those the embeddings are compared on. */
    static final List<String> CALIBRATION = List.of(
            "The library opens at nine in the morning on weekdays.",
            "A dog is running across the field after a ball.",
            "Prices of fresh vegetables rose during the dry summer.",
            "He repaired the bicycle with a borrowed set of tools.",
            "Which airline has the cheapest flights to Lisbon in May?",
            "The engineers tested the bridge under heavy loads.",
            "Two children are reading comic books on the sofa.",
            "The city council approved a plan for new cycle lanes.",
            "Drinking water before meals may help with digestion.",
            "The concert was cancelled because the singer fell ill.",
            "Neural networks learn patterns from large amounts of data.",
            "The old lighthouse was turned into a small museum.");

    private MiniLmBenchmark() {
    }

    /**
     * A file of the model cache: the folder named by the system property {@code modelpress.models} (bench/quantization.sh
     * passes bench/models/cache, relative to the repository it runs from), else bench/models/cache under the working
     * folder or, from the module's folder, under the repository; null when absent.
     */
    static Path find(String name) {
        String given = System.getProperty("modelpress.models");
        List<Path> folders = given != null ? List.of(Path.of(given))
                : List.of(Path.of("bench/models/cache"), Path.of("../../bench/models/cache"));
        for (Path folder : folders) {
            if (Files.exists(folder.resolve(name))) {
                return folder.resolve(name);
            }
        }
        return null;
    }

    static void run(String only) throws Exception {
        Path fp32File = find("minilm-l6.onnx");
        Path vocab = find("minilm-l6-vocab.txt");
        if (fp32File == null || vocab == null) {
            System.out.println("minilm-l6.onnx or its vocabulary is missing: run bench/models/fetch-models.sh");
            return;
        }
        WordPiece tokenizer = WordPiece.load(vocab);
        OnnxModel fp32 = OnnxModel.load(fp32File);
        long weightBytes = fp32.weights().totalBytes();
        Path peerFile = find("minilm-l6-int8.onnx");
        System.out.printf(Locale.ROOT, "fp32: %s, %.2f MB, weights %.2f MB%n", fp32File, Files.size(fp32File) / 1e6, weightBytes / 1e6);
        List<Map<String, TensorData>> sentences = new ArrayList<>();
        for (String sentence : SENTENCES) {
            sentences.add(inputs(tokenizer.encode(sentence, 128), false));
        }
        Map<String, TensorData> long128 = inputs(tokenizer.encode(String.join(" ", SENTENCES), 128), false);
        List<float[]> reference = embed(fp32, sentences);

        List<Map<String, TensorData>> calibrationSentences = new ArrayList<>();
        for (String sentence : CALIBRATION) {
            calibrationSentences.add(inputs(tokenizer.encode(sentence, 128), false));
        }
        CalibrationData calibration = CalibrationData.of(calibrationSentences);

        record Variant(String label, CompressionPlugin plugin, Map<String, String> options) {
        }
        List<Variant> variants = new ArrayList<>(List.of(
                new Variant("int8-dynamic (operator)", new Int8DynamicPlugin(), Map.of("format", "operator")),
                new Variant("int8-dynamic (operator) asymmetric", new Int8DynamicPlugin(),
                        Map.of("format", "operator", "symmetric", "false")),
                new Variant("int8-dynamic (operator) auto 0.995", new Int8DynamicPlugin(),
                        Map.of("format", "operator", "fidelity-target", "0.995")),
                new Variant("int8-dynamic (operator) auto 0.996", new Int8DynamicPlugin(),
                        Map.of("format", "operator", "fidelity-target", "0.996")),
                new Variant("int8-dynamic (operator) auto 0.997", new Int8DynamicPlugin(),
                        Map.of("format", "operator", "fidelity-target", "0.997")),
                new Variant("int8-dynamic (operator) smooth 0.6", new Int8DynamicPlugin(),
                        Map.of("format", "operator", "smooth", "0.6")),
                new Variant("int8-dynamic (operator) smooth 0.7", new Int8DynamicPlugin(),
                        Map.of("format", "operator", "smooth", "0.7")),
                new Variant("int8-dynamic (operator) smooth 0.8", new Int8DynamicPlugin(),
                        Map.of("format", "operator", "smooth", "0.8")),
                new Variant("int8-dynamic (operator) smooth 0.7 target 0.995", new Int8DynamicPlugin(),
                        Map.of("format", "operator", "smooth", "0.7", "fidelity-target", "0.995")),
                new Variant("int8-dynamic (operator) smooth 0.7 folded only", new Int8DynamicPlugin(),
                        Map.of("format", "operator", "smooth", "0.7", "smooth-add-mul", "false")),
                new Variant("int8-dynamic (operator) smooth 0.8 folded only", new Int8DynamicPlugin(),
                        Map.of("format", "operator", "smooth", "0.8", "smooth-add-mul", "false")),
                new Variant("int8-dynamic (operator) smooth 0.7 ratio 8", new Int8DynamicPlugin(),
                        Map.of("format", "operator", "smooth", "0.7", "smooth-outlier-ratio", "8")),
                new Variant("int8-dynamic (operator) smooth 0.3 all", new Int8DynamicPlugin(),
                        Map.of("format", "operator", "smooth", "0.3", "smooth-outlier-ratio", "1")),
                new Variant("int8-dynamic (operator) smooth 0.5 all", new Int8DynamicPlugin(),
                        Map.of("format", "operator", "smooth", "0.5", "smooth-outlier-ratio", "1")),
                new Variant("int8-dynamic (operator) smooth 0.6 all", new Int8DynamicPlugin(),
                        Map.of("format", "operator", "smooth", "0.6", "smooth-outlier-ratio", "1")),
                new Variant("int8-dynamic (operator) smooth 0.7 all", new Int8DynamicPlugin(),
                        Map.of("format", "operator", "smooth", "0.7", "smooth-outlier-ratio", "1")),
                new Variant("int8-dynamic (operator) smooth 0.8 all", new Int8DynamicPlugin(),
                        Map.of("format", "operator", "smooth", "0.8", "smooth-outlier-ratio", "1")),
                new Variant("int8-dynamic (operator) smooth 0.9 all", new Int8DynamicPlugin(),
                        Map.of("format", "operator", "smooth", "0.9", "smooth-outlier-ratio", "1")),
                new Variant("int8-dynamic (operator) smooth 1.0 all", new Int8DynamicPlugin(),
                        Map.of("format", "operator", "smooth", "1.0", "smooth-outlier-ratio", "1")),
                new Variant("int8-dynamic (qdq)", new Int8DynamicPlugin(), Map.of("format", "qdq")),
                new Variant("int4-block 32", new Int4BlockPlugin(), Map.of()),
                new Variant("int4-block 32 auto 0.985", new Int4BlockPlugin(), Map.of("fidelity-target", "0.985")),
                new Variant("int4-block 32 int8 embeddings", new Int4BlockPlugin(), Map.of("embeddings", "int8")),
                new Variant("int4-block 64", new Int4BlockPlugin(), Map.of("block-size", "64")),
                new Variant("int4-block 128", new Int4BlockPlugin(), Map.of("block-size", "128"))));
        variants.removeIf(v -> !only.isEmpty() && java.util.Arrays.stream(only.split(",")).noneMatch(term -> term.endsWith("$")
                ? v.label().endsWith(term.substring(0, term.length() - 1)) : v.label().contains(term)));
        Path out = Files.createTempDirectory("minilm-bench");
        Map<String, OnnxModel> models = new LinkedHashMap<>();
        for (Variant variant : variants) {
            // the automatic mode runs the model dozens of times: timed once; the others, median of 3
            double[] seconds = new double[variant.options().containsKey("fidelity-target") ? 1 : 3];
            PluginResult result = null;
            for (int i = 0; i < seconds.length; i++) {
                long start = System.nanoTime();
                result = variant.plugin().apply(fp32, PluginOptions.resolve(variant.plugin().options(), variant.options()),
                        Models.context(QuantizedFormat.OPERATOR).withCalibration(calibration));
                seconds[i] = (System.nanoTime() - start) / 1e9;
            }
            double time = QuantizationBenchmark.median(seconds);
            long size = saved(result.model(), out.resolve(variant.label().replaceAll("[^a-z0-9]+", "-") + ".onnx"));
            double cosine = meanCosine(reference, embed(result.model(), sentences));
            System.out.printf(Locale.ROOT, "%s: %.2f MB (%d bytes), mean cosine %.5f (min %.5f), processing %.3f s median of %d (%.0f MB/s of fp32 weights)%n",
                    variant.label(), size / 1e6, size, cosine, minCosine(reference, embed(result.model(), sentences)), time,
                    seconds.length,
                    weightBytes / 1e6 / time);
            System.out.println("    " + result.figures() + " " + result.changes().stream()
                    .filter(c -> c.contains("automatic") || c.contains("smooth")).toList() + " kept float: " + result.skipped().size());
            models.put(variant.label(), result.model());
        }
        if (peerFile != null) {
            OnnxModel peer = OnnxModel.load(peerFile);
            List<float[]> peerEmbeddings = embed(peer, sentences);
            System.out.printf(Locale.ROOT, "peer int8: %.2f MB, mean cosine %.5f (min %.5f)%n", Files.size(peerFile) / 1e6,
                    meanCosine(reference, peerEmbeddings), minCosine(reference, peerEmbeddings));
            models.put("peer int8", peer);
        }
        latency(fp32, models, long128);
    }

    /**
     * Batch-1 runs at sequence 128, every model in the same rounds on raw ONNX Runtime sessions, threads as ONNX
     * Runtime picks ({@link QuantizationBenchmark#time}): at least 40 rounds, until every median is stable.
     */
    static void latency(OnnxModel fp32, Map<String, OnnxModel> models, Map<String, TensorData> input)
            throws IOException {
        Map<String, OnnxModel> all = new LinkedHashMap<>();
        all.put("fp32", fp32);
        all.putAll(models);
        List<ModelBenchmark> timed = QuantizationBenchmark.time(all, input, BenchmarkSettings.of(0, 5, 40).withoutMemory());
        Optional<ModelBenchmark> peer = timed.stream().filter(t -> t.label().equals("peer int8")).findFirst();
        double base = timed.get(0).p50Millis();
        System.out.println();
        System.out.println("| model (batch 1, sequence 128) | median ms | p10 ms | p90 ms | rounds | stable | speed-up over fp32"
                + " | time / peer's |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        for (ModelBenchmark t : timed) {
            System.out.printf(Locale.ROOT, "| %s | %.2f | %.2f | %.2f | %d | %s | %.2fx | %s |%n", t.label(), t.p50Millis(),
                    t.p10Millis(), t.p90Millis(), t.rounds(), t.stable() ? "yes" : "no", base / t.p50Millis(),
                    peer.map(p -> String.format(Locale.ROOT, "%.3f", t.p50Millis() / p.p50Millis())).orElse("-"));
        }
    }

    static long saved(OnnxModel model, Path file) throws IOException {
        model.save(file, SaveOptions.inline());
        try (Stream<Path> files = Files.list(file.getParent())) {
            long total = 0;
            for (Path p : files.filter(p -> p.getFileName().toString().startsWith(file.getFileName().toString())).toList()) {
                total += Files.size(p);
            }
            return total;
        }
    }

    static Map<String, TensorData> inputs(long[] ids, boolean unused) {
        long[] shape = {1, ids.length};
        long[] mask = new long[ids.length];
        java.util.Arrays.fill(mask, 1);
        Map<String, TensorData> inputs = new LinkedHashMap<>();
        inputs.put("input_ids", TensorData.ofLongs(shape, ids));
        inputs.put("attention_mask", TensorData.ofLongs(shape, mask));
        inputs.put("token_type_ids", TensorData.ofLongs(shape, new long[ids.length]));
        return inputs;
    }

    /** Mean-pooled embeddings (every token is unmasked at batch 1). */
    static List<float[]> embed(OnnxModel model, List<Map<String, TensorData>> sentences) {
        List<float[]> out = new ArrayList<>();
        try (OrtRunner runner = OrtRunner.open(model)) {
            for (Map<String, TensorData> sentence : sentences) {
                TensorData hidden = runner.run(sentence).get("last_hidden_state");
                long[] shape = hidden.shape();
                float[] values = hidden.toFloats();
                int tokens = (int) shape[1];
                int width = (int) shape[2];
                float[] pooled = new float[width];
                for (int t = 0; t < tokens; t++) {
                    for (int d = 0; d < width; d++) {
                        pooled[d] += values[t * width + d] / tokens;
                    }
                }
                out.add(pooled);
            }
        }
        return out;
    }

    static double meanCosine(List<float[]> a, List<float[]> b) {
        double sum = 0;
        for (int i = 0; i < a.size(); i++) {
            sum += Fidelities.cosine(a.get(i), b.get(i));
        }
        return sum / a.size();
    }

    static double minCosine(List<float[]> a, List<float[]> b) {
        double min = 1;
        for (int i = 0; i < a.size(); i++) {
            min = Math.min(min, Fidelities.cosine(a.get(i), b.get(i)));
        }
        return min;
    }
}

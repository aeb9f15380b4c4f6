package io.modelpress.plugins.quantization;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.modelpress.model.OnnxModel;
import io.modelpress.plugins.fusion.TransformerFusionPlugin;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.QuantizedFormat;
import io.modelpress.spi.TensorData;
import java.io.PrintStream;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Figures for bench/transformer.sh, one encoder per run: the fp32 original, the same fused by
 * transformer-fusion, the published int8 peer (when there is one) and ours (fused as the planner's
 * chain fuses, embeddings left to their Gathers, then int8-dynamic in operator form). Fidelity is
 * the mean-pooled embedding cosine to the fp32 original on held-out sentences the calibration never
 * saw. Latency: one ONNX Runtime session per
 * model (all optimisations on, the same thread count for all), inputs built before the timed
 * region, warm-up rounds discarded, every model once per round in a new random order.
 *
 * <p>usage: TransformerBenchmark CACHE NAME PEER|- SENTENCES HELDOUT CSV THREADS [INT8 OPTIONS as k=v,k=v];
 * THREADS 0 measures fidelity and size only.
 */
final class TransformerBenchmark {

    private static final int[][] SHAPES = {{1, 128}, {8, 128}, {1, 32}, {1, 256}};
    private static final int WARM_UP = 5;

    private TransformerBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path cache = Path.of(args[0]);
        String name = args[1];
        String peerFile = args[2];
        List<String> sentences = lines(Path.of(args[3]));
        List<String> heldOut = lines(Path.of(args[4]));
        Path csv = Path.of(args[5]);
        int threads = Integer.parseInt(args[6]);
        Map<String, String> int8Options = new LinkedHashMap<>(Map.of("format", "operator"));
        if (args.length > 7 && !args[7].isBlank()) {
            for (String pair : args[7].split(",")) {
                String[] kv = pair.split("=", 2);
                int8Options.put(kv[0], kv[1]);
            }
        }
        WordPiece tokenizer = WordPiece.load(cache.resolve(name + "-vocab.txt"));
        OnnxModel fp32 = OnnxModel.load(cache.resolve(name + ".onnx"));
        PrintStream out = System.out;

        TransformerFusionPlugin fusion = new TransformerFusionPlugin();
        PluginResult fusedResult = fusion.apply(fp32, PluginOptions.defaults(fusion.options()),
                Models.context(QuantizedFormat.OPERATOR));
        OnnxModel fused = fusedResult.model();
        // ours is the planner's chain: the embedding lookups stay Gathers, whose int8 tables stay int8 while
        // running (EmbedLayerNormalization takes float tables, which ONNX Runtime would fold back to fp32)
        PluginResult oursFused = fusion.apply(fp32, PluginOptions.resolve(fusion.options(),
                Map.of("embed-layer-norm", "false")), Models.context(QuantizedFormat.OPERATOR));
        List<Map<String, TensorData>> calibrationInputs = new ArrayList<>();
        for (String sentence : sentences.subList(0, Math.min(32, sentences.size()))) {
            calibrationInputs.add(MiniLmBenchmark.inputs(tokenizer.encode(sentence, 128), false));
        }
        Int8DynamicPlugin int8 = new Int8DynamicPlugin();
        long start = System.nanoTime();
        PluginResult int8Result = int8.apply(oursFused.model(), PluginOptions.resolve(int8.options(), int8Options),
                Models.context(QuantizedFormat.OPERATOR).withCalibration(CalibrationData.of(calibrationInputs)));
        double int8Seconds = (System.nanoTime() - start) / 1e9;

        Map<String, OnnxModel> models = new LinkedHashMap<>();
        models.put("fp32 original", fp32);
        models.put("fp32 fused", fused);
        if (!peerFile.equals("-")) {
            models.put("int8 peer (published)", OnnxModel.load(cache.resolve(peerFile)));
        }
        models.put("int8 ours (fused)", int8Result.model());

        out.printf(Locale.ROOT, "%n### %s%n%n", name);
        out.println("Fusion (fp32 fused): " + String.join("; ", fusedResult.changes()) + ". Ours: the same with"
                + " embed-layer-norm=false, then int8-dynamic options "
                + int8Options + ", calibrated on " + calibrationInputs.size() + " sentences in "
                + String.format(Locale.ROOT, "%.1f s", int8Seconds) + "; op types of ours: " + opTypes(int8Result.model()) + "; kept in float: "
                + int8Result.skipped().stream().map(PluginResult.Skipped::part).toList() + ".");
        out.println();

        List<Map<String, TensorData>> held = new ArrayList<>();
        for (String sentence : heldOut) {
            held.add(MiniLmBenchmark.inputs(tokenizer.encode(sentence, 128), false));
        }
        List<float[]> reference = MiniLmBenchmark.embed(fp32, held);
        out.println(fusedAgainstOriginal(fp32, fused, tokenizer, heldOut));
        out.println();
        Path folder = Files.createTempDirectory("transformer-bench");
        out.printf(Locale.ROOT, "Held-out fidelity (%d sentences, mean-pooled cosine to the fp32 original) and size:%n%n", held.size());
        out.println("| model | size MB | mean cosine | worst cosine |");
        out.println("|---|---:|---:|---:|");
        List<String> csvRows = new ArrayList<>();
        Map<String, String> fidelityCsv = new HashMap<>();
        for (Map.Entry<String, OnnxModel> entry : models.entrySet()) {
            List<float[]> embedded = MiniLmBenchmark.embed(entry.getValue(), held);
            double mean = MiniLmBenchmark.meanCosine(reference, embedded);
            double worst = MiniLmBenchmark.minCosine(reference, embedded);
            long size = MiniLmBenchmark.saved(entry.getValue(), folder.resolve(entry.getKey().replaceAll("[^a-z0-9]+", "-") + ".onnx"));
            out.printf(Locale.ROOT, "| %s | %.2f | %.5f | %.5f |%n", entry.getKey(), size / 1e6, mean, worst);
            fidelityCsv.put(entry.getKey(), String.format(Locale.ROOT, "%d,%.6f,%.6f", size, mean, worst));
        }
        out.println();

        if (threads == 0) {
            return; // fidelity only
        }
        long[] ids = tokenizer.encode(String.join(" ", heldOut), 100_000);
        out.printf(Locale.ROOT, "Latency (ms; one session per model, %d intra-op thread%s, %d warm-up rounds discarded):%n%n",
                threads, threads == 1 ? "" : "s", WARM_UP);
        out.println("| batch × sequence | model | median | p10 | p90 | rounds | × fp32 speed | time ÷ peer's (paired median) |");
        out.println("|---|---|---:|---:|---:|---:|---:|---:|");
        for (int[] shape : SHAPES) {
            // many rounds: on a shared machine the spread is wide and the median needs them to settle
            int rounds = shape[0] * shape[1] <= 128 ? 200 : shape[0] * shape[1] <= 256 ? 80 : 40;
            double[][] times = time(models, shape[0], shape[1], ids, rounds, threads);
            List<String> labels = new ArrayList<>(models.keySet());
            int peer = labels.indexOf("int8 peer (published)");
            double fp32Median = percentile(times[0], 50);
            for (int m = 0; m < labels.size(); m++) {
                double median = percentile(times[m], 50);
                String paired = "";
                if (peer >= 0) {
                    double[] ratio = new double[rounds];
                    for (int r = 0; r < rounds; r++) {
                        ratio[r] = times[m][r] / times[peer][r];
                    }
                    paired = String.format(Locale.ROOT, "%.3f", percentile(ratio, 50));
                }
                out.printf(Locale.ROOT, "| %d × %d | %s | %.2f | %.2f | %.2f | %d | %.2f | %s |%n", shape[0], shape[1],
                        labels.get(m), median, percentile(times[m], 10), percentile(times[m], 90), rounds,
                        fp32Median / median, paired);
                csvRows.add(String.format(Locale.ROOT, "%s,%s,%d,%d,%.4f,%.4f,%.4f,%d,%s,%s", name, labels.get(m), shape[0],
                        shape[1], median, percentile(times[m], 10), percentile(times[m], 90), rounds, paired,
                        fidelityCsv.get(labels.get(m))));
            }
        }
        boolean header = !Files.exists(csv);
        List<String> lines = new ArrayList<>();
        if (header) {
            lines.add("model,variant,batch,sequence,median_ms,p10_ms,p90_ms,rounds,time_over_peer_paired,size_bytes,"
                    + "heldout_mean_cosine,heldout_worst_cosine");
        }
        lines.addAll(csvRows);
        Files.write(csv, lines, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    }

    /**
     * The fused fp32 graph against the original on real sentences, several at a time: batches of
     * 1, 3 and 8 sentences right-padded to the longest (the mask marks the padding), so batch and
     * sequence vary from run to run. Fails when any attended token's hidden state moves more than
     * fp32 rounding allows.
     */
    private static String fusedAgainstOriginal(OnnxModel original, OnnxModel fused, WordPiece tokenizer,
            List<String> sentences) {
        double worst = 0;
        int runs = 0;
        try (io.modelpress.inference.OrtRunner before = io.modelpress.inference.OrtRunner.open(original);
                io.modelpress.inference.OrtRunner after = io.modelpress.inference.OrtRunner.open(fused)) {
            for (int batch : new int[] {1, 3, 8}) {
                for (int first = 0; first + batch <= Math.min(sentences.size(), 48); first += batch) {
                    List<long[]> ids = new ArrayList<>();
                    for (String sentence : sentences.subList(first, first + batch)) {
                        ids.add(tokenizer.encode(sentence, 128));
                    }
                    int length = ids.stream().mapToInt(a -> a.length).max().orElseThrow();
                    long[] tokens = new long[batch * length];
                    long[] mask = new long[batch * length];
                    for (int b = 0; b < batch; b++) {
                        for (int t = 0; t < ids.get(b).length; t++) {
                            tokens[b * length + t] = ids.get(b)[t];
                            mask[b * length + t] = 1;
                        }
                    }
                    Map<String, TensorData> inputs = new LinkedHashMap<>();
                    inputs.put("input_ids", TensorData.ofLongs(new long[] {batch, length}, tokens));
                    inputs.put("attention_mask", TensorData.ofLongs(new long[] {batch, length}, mask));
                    inputs.put("token_type_ids", TensorData.ofLongs(new long[] {batch, length}, new long[batch * length]));
                    float[] expected = before.run(inputs).get("last_hidden_state").toFloats();
                    float[] actual = after.run(inputs).get("last_hidden_state").toFloats();
                    int width = expected.length / (batch * length);
                    for (int i = 0; i < expected.length; i++) {
                        if (mask[i / width] == 1) {
                            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
                        }
                    }
                    runs++;
                }
            }
        }
        if (worst > 1e-3) {
            throw new IllegalStateException("the fused graph moved a hidden state by " + worst + ": fusion changed the model");
        }
        return String.format(Locale.ROOT, "Fused fp32 against the original on %d runs of 1, 3 and 8 real sentences padded to "
                + "the longest: largest difference of an attended token's hidden state %.2e.", runs, worst);
    }

    /** Milliseconds per run, [model][round]. */
    private static double[][] time(Map<String, OnnxModel> models, int batch, int length, long[] ids, int rounds, int threads)
            throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        List<OrtSession> sessions = new ArrayList<>();
        List<Map<String, OnnxTensor>> inputs = new ArrayList<>();
        try {
            for (OnnxModel model : models.values()) {
                OrtSession.SessionOptions options = new OrtSession.SessionOptions();
                options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                options.setIntraOpNumThreads(threads);
                options.setInterOpNumThreads(1);
                OrtSession session = env.createSession(model.toByteArray(), options);
                sessions.add(session);
                inputs.add(tensors(env, session, batch, length, ids));
            }
            double[][] times = new double[sessions.size()][rounds];
            List<Integer> order = new ArrayList<>();
            for (int m = 0; m < sessions.size(); m++) {
                order.add(m);
            }
            Random shuffle = new Random(42);
            for (int round = -WARM_UP; round < rounds; round++) {
                Collections.shuffle(order, shuffle);
                for (int m : order) {
                    long begin = System.nanoTime();
                    OrtSession.Result result = sessions.get(m).run(inputs.get(m));
                    long end = System.nanoTime();
                    result.close();
                    if (round >= 0) {
                        times[m][round] = (end - begin) / 1e6;
                    }
                }
            }
            return times;
        } finally {
            for (Map<String, OnnxTensor> tensors : inputs) {
                tensors.values().forEach(OnnxTensor::close);
            }
            for (OrtSession session : sessions) {
                session.close();
            }
        }
    }

    /** [batch, length] windows of real token ids (each its own slice of the held-out text), all attended. */
    private static Map<String, OnnxTensor> tensors(OrtEnvironment env, OrtSession session, int batch, int length, long[] ids)
            throws OrtException {
        long[] tokens = new long[batch * length];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < length; t++) {
                tokens[b * length + t] = ids[(b * 97 + t) % ids.length];
            }
        }
        long[] ones = new long[batch * length];
        Arrays.fill(ones, 1);
        long[] shape = {batch, length};
        Map<String, OnnxTensor> inputs = new HashMap<>();
        for (String input : session.getInputNames()) {
            long[] values = switch (input) {
                case "input_ids" -> tokens;
                case "attention_mask" -> ones;
                case "token_type_ids" -> new long[batch * length];
                default -> throw new IllegalArgumentException("unexpected encoder input " + input);
            };
            inputs.put(input, OnnxTensor.createTensor(env, LongBuffer.wrap(values), shape));
        }
        return inputs;
    }

    private static double percentile(double[] values, int percent) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, sorted.length * percent / 100)];
    }

    private static String opTypes(OnnxModel model) {
        Map<String, Integer> counts = new java.util.TreeMap<>();
        model.proto().getGraph().getNodeList().forEach(n -> counts.merge(n.getOpType(), 1, Integer::sum));
        return counts.toString();
    }

    private static List<String> lines(Path file) throws java.io.IOException {
        return Files.readAllLines(file).stream().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }
}

package io.modelpress.plugins.packaging;

import io.modelpress.model.OnnxModel;
import io.modelpress.plugins.distillation.FineTunePlugin;
import io.modelpress.plugins.distillation.RegularizePlugin;
import io.modelpress.plugins.pruning.MagnitudePruningPlugin;
import io.modelpress.plugins.pruning.StructuredPruningPlugin;
import io.modelpress.plugins.sharing.WeightSharingPlugin;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.PluginTestContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Retraining in the Deep Compression chain on the MNIST classifier: one-shot chains (prune, share,
 * package) against the same chains with fine-tuning after pruning and after sharing, over a sweep of
 * sparsities; and gradual magnitude pruning (the sparsity rising inside one fine-tune; and cuts with a
 * fine-tune after each) against one-shot pruning to the same sparsity with as many epochs. Fine-tuning
 * trains on digits [0, 8000) (which trained the model); every accuracy is top-1 on digits [8000, 10000),
 * which no step saw, measured on the unpacked file in ONNX Runtime. Prints Markdown, writes a CSV
 * (-Dcsv=FILE, default target/retraining.csv). Not a test: bench/retraining.sh runs it.
 */
public final class RetrainingBenchmark {

    private static final List<String> SPARSITIES = List.of("0.8", "0.9", "0.94", "0.96");
    private static final Map<String, String> FINE_TUNE = Map.of("epochs", "10", "learning-rate", "0.001");
    private static final Map<String, String> CODEBOOK_TUNE = Map.of("epochs", "4", "learning-rate", "0.00001");

    private final Path temp;
    private final CalibrationData data;
    private final List<String> csv = new ArrayList<>();
    private int runs;

    private RetrainingBenchmark(Path temp) {
        this.temp = temp;
        String input = MnistModels.mlp().proto().getGraph().getInput(0).getName();
        this.data = MnistModels.calibration(input, 0, MnistModels.TRAIN, 500);
    }

    public static void main(String[] args) throws Exception {
        RetrainingBenchmark bench = new RetrainingBenchmark(Files.createTempDirectory("retraining-bench-"));
        String parts = System.getProperty("parts", "chains,gradual,regularize,cnn");
        if (parts.contains("chains")) {
            bench.chains();
        }
        if (parts.contains("gradual")) {
            bench.gradual();
        }
        if (parts.contains("regularize")) {
            bench.regularized();
        }
        if (parts.contains("cnn")) {
            bench.cnn();
        }
        Path out = Path.of(System.getProperty("csv", "target/retraining.csv"));
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.write(out, bench.csv);
    }

    /** Outcome of one chain: held-out accuracy of its last model, its packaged bytes, seconds spent training. */
    private record Outcome(double accuracy, long packagedBytes, double trainingSeconds) {
    }

    private void chains() throws Exception {
        OnnxModel original = MnistModels.mlp();
        double before = accuracy(original);
        long fp32 = original.serializedSize();
        System.out.printf(Locale.ROOT, "%n## Deep Compression: one-shot against fine-tuned (4-bit sharing)%n%n"
                + "Original: %,d bytes fp32, %.2f%% top-1 on the held-out digits.%n%n"
                + "| sparsity | one-shot size | one-shot ratio | one-shot top-1 | fine-tuned size | fine-tuned ratio"
                + " | fine-tuned top-1 | training s |%n|---|---|---|---|---|---|---|---|%n", fp32, 100 * before);
        csv.add("chain,sparsity,bits,packaged_bytes,ratio,top1,top1_original,training_seconds");
        for (String sparsity : SPARSITIES) {
            Outcome oneShot = run(original, List.of(step(new MagnitudePruningPlugin(), "sparsity", sparsity),
                    step(new WeightSharingPlugin(), "bits", "4"), new Step(new PackagePlugin(), Map.of())));
            Outcome tuned = run(original, List.of(step(new MagnitudePruningPlugin(), "sparsity", sparsity),
                    new Step(new FineTunePlugin(), FINE_TUNE), step(new WeightSharingPlugin(), "bits", "4"),
                    new Step(new FineTunePlugin(), CODEBOOK_TUNE), new Step(new PackagePlugin(), Map.of())));
            System.out.printf(Locale.ROOT, "| %s | %,d | %.1fx | %.2f%% | %,d | %.1fx | %.2f%% | %.1f |%n", sparsity,
                    oneShot.packagedBytes(), (double) fp32 / oneShot.packagedBytes(), 100 * oneShot.accuracy(),
                    tuned.packagedBytes(), (double) fp32 / tuned.packagedBytes(), 100 * tuned.accuracy(),
                    tuned.trainingSeconds());
            csv.add(String.format(Locale.ROOT, "one-shot,%s,4,%d,%.3f,%.4f,%.4f,0", sparsity, oneShot.packagedBytes(),
                    (double) fp32 / oneShot.packagedBytes(), oneShot.accuracy(), before));
            csv.add(String.format(Locale.ROOT, "fine-tuned,%s,4,%d,%.3f,%.4f,%.4f,%.2f", sparsity,
                    tuned.packagedBytes(), (double) fp32 / tuned.packagedBytes(), tuned.accuracy(), before,
                    tuned.trainingSeconds()));
        }
    }

    /**
     * Gradual against one-shot magnitude pruning at equal budgets: the same fine-tune plugin, data, seed, learning
     * rate, cosine schedule and number of epochs ({@code -Dbudgets=}, default 12 and 24), each pair over several
     * seeds ({@code -Dseeds=}, default 42, 7, 1: the seed draws the fine-tune's held-out rows and batch order). One-shot
     * cuts to the target at once and fine-tunes; gradual fine-tunes the unpruned model with {@code prune-to} (the
     * sparsity rising along the cubic schedule in {@code -Dprune-steps=} steps over the first {@code -Dprune-until=}
     * of the steps, one learning-rate schedule over all). The older form, cuts to 50, 75, 90 and 100 % of the target
     * with a fine-tune after each (its own cosine schedule each, 2+2+2 epochs and the rest), is shown too.
     */
    private void gradual() throws Exception {
        OnnxModel original = MnistModels.mlp();
        String steps = System.getProperty("prune-steps", "100");
        String until = System.getProperty("prune-until", "0.5");
        List<String> seeds = List.of(System.getProperty("seeds", "42,7,1").split(","));
        List<String> sparsities = List.of(System.getProperty("gradual-sparsities", "0.94,0.97,0.98,0.99").split(","));
        System.out.printf(Locale.ROOT, "%n## Gradual against one-shot magnitude pruning at equal budgets (no sharing)%n%n"
                + "Within a table every column trains the same epochs in all, on the same rows, with Adam 1e-3, every"
                + " epoch trained (patience 0) and the kept epoch picked on the fine-tune's own held-out tenth of"
                + " [0, 8000). One-shot: one cut to the target, then one fine-tune. Cuts: to 50%%, 75%%, 90%% and"
                + " 100%% of the target, with 2, 2, 2 epochs and the rest of fine-tuning after them, each with its own"
                + " cosine schedule. Gradual: one fine-tune of the unpruned model with prune-to = the target,"
                + " prune-steps=%s, prune-until=%s (the sparsity rises along the cubic schedule over the first %s of"
                + " the steps, one cosine schedule over all; chosen on the fine-tune's own held-out rows, not on the"
                + " digits below). Top-1 on [8000, 10000), the mean over seeds %s (the seed draws the held-out rows"
                + " and the batch order); training seconds are the means too.%n", steps, until, until,
                String.join(", ", seeds));
        List<Integer> budgets = new ArrayList<>();
        for (String budget : System.getProperty("budgets", "12,24").split(",")) {
            budgets.add(Integer.parseInt(budget));
        }
        for (int epochs : budgets) {
            System.out.printf(Locale.ROOT, "%n### %d epochs%n%n| sparsity | one-shot, no fine-tuning | one-shot +"
                    + " fine-tune | cuts, fine-tuned after each | gradual | gradual - one-shot | seeds gradual won |"
                    + " one-shot s | cuts s | gradual s |%n|---|---|---|---|---|---|---|---|---|---|%n", epochs);
            for (String target : sparsities) {
                double cut = run(original, List.of(step(new MagnitudePruningPlugin(), "sparsity", target))).accuracy();
                double[] sum = new double[6];
                int won = 0;
                for (String seed : seeds) {
                    Outcome oneShot = run(original, List.of(step(new MagnitudePruningPlugin(), "sparsity", target),
                            new Step(new FineTunePlugin(), tuning(epochs, seed))));
                    Outcome cuts = run(original, cuts(target, epochs, seed));
                    Map<String, String> options = new java.util.HashMap<>(tuning(epochs, seed));
                    options.putAll(Map.of("prune-to", target, "prune-steps", steps, "prune-until", until));
                    Outcome gradual = run(original, List.of(new Step(new FineTunePlugin(), options)));
                    won += gradual.accuracy() > oneShot.accuracy() ? 1 : 0;
                    double[] figures = {oneShot.accuracy(), cuts.accuracy(), gradual.accuracy(),
                        oneShot.trainingSeconds(), cuts.trainingSeconds(), gradual.trainingSeconds()};
                    for (int i = 0; i < figures.length; i++) {
                        sum[i] += figures[i] / seeds.size();
                    }
                    for (Map.Entry<String, Outcome> row : List.of(Map.entry("prune-once-fine-tune", oneShot),
                            Map.entry("cuts-fine-tuned", cuts), Map.entry("gradual", gradual))) {
                        csv.add(String.format(Locale.ROOT, "%s-%d-epochs-seed-%s,%s,,,,%.4f,,%.2f", row.getKey(),
                                epochs, seed, target, row.getValue().accuracy(), row.getValue().trainingSeconds()));
                    }
                }
                System.out.printf(Locale.ROOT, "| %s | %.2f%% | %.2f%% | %.2f%% | %.2f%% | %+.2f | %d of %d | %.1f |"
                        + " %.1f | %.1f |%n", target, 100 * cut, 100 * sum[0], 100 * sum[1], 100 * sum[2],
                        100 * (sum[2] - sum[0]), won, seeds.size(), sum[3], sum[4], sum[5]);
            }
        }
    }

    /** Cuts to 50, 75, 90 and 100 % of the target, with 2, 2, 2 and the rest of the epochs of fine-tuning after each. */
    private static List<Step> cuts(String target, int epochs, String seed) {
        List<Step> cuts = new ArrayList<>();
        int[] stageEpochs = {2, 2, 2, epochs - 6};
        double[] shares = {0.5, 0.75, 0.9, 1.0};
        for (int i = 0; i < shares.length; i++) {
            cuts.add(step(new MagnitudePruningPlugin(), "sparsity",
                    String.format(Locale.ROOT, "%.4f", Double.parseDouble(target) * shares[i])));
            cuts.add(new Step(new FineTunePlugin(), tuning(stageEpochs[i], seed)));
        }
        return cuts;
    }

    /**
     * Magnitude pruning of the MLP with and without an L1-regularised training first (the same epochs of training
     * in both rows: without the penalty, the same plugin with l1 = 0), each then without and with fine-tuning.
     */
    private void regularized() throws Exception {
        OnnxModel original = MnistModels.mlp();
        String l1 = System.getProperty("l1", "0.00005");
        System.out.printf(Locale.ROOT, "%n## L1 regularisation before magnitude pruning%n%nregularize: 5 epochs, Adam"
                + " 1e-3, l1 = %s (l1 = 0: the same training without the penalty); then magnitude pruning; then"
                + " fine-tuning 10 epochs.%n%n| sparsity | penalty | near-zero weights before pruning | pruned top-1"
                + " | fine-tuned top-1 |%n|---|---|---|---|---|%n", l1);
        for (String sparsity : List.of("0.94", "0.97")) {
            for (String penalty : List.of("0", l1)) {
                PluginResult trained = apply(new RegularizePlugin(), original, Map.of("epochs", "5", "learning-rate",
                        "0.001", "l1", penalty, "patience", "0"), data);
                OnnxModel pruned = apply(new MagnitudePruningPlugin(), trained.model(), Map.of("sparsity", sparsity),
                        data).model();
                OnnxModel tuned = apply(new FineTunePlugin(), pruned, FINE_TUNE, data).model();
                System.out.printf(Locale.ROOT, "| %s | %s | %.1f%% | %.2f%% | %.2f%% |%n", sparsity, penalty,
                        100 * trained.figures().get("near-zero-weights"), 100 * accuracy(pruned), 100 * accuracy(tuned));
                csv.add(String.format(Locale.ROOT, "l1-%s-then-prune,%s,,,,%.4f,,", penalty, sparsity, accuracy(tuned)));
            }
        }
    }

    /**
     * Structured pruning of a BatchNorm CNN with and without fine-tuning. The CNN (three Conv-BatchNorm-Relu
     * blocks, global average pooling, Gemm) is trained here from He-initialised weights by the fine-tune plugin
     * itself, on digits [0, 8000) as images; its BatchNorm statistics stay at their initial values (mean 0,
     * variance 1), so the layers train as scale and shift.
     */
    private void cnn() throws Exception {
        CalibrationData images = imageData(0, MnistModels.TRAIN);
        OnnxModel untrained = MnistCnn.untrained(new java.util.SplittableRandom(1));
        PluginResult trained = apply(new FineTunePlugin(), untrained, Map.of("epochs", "15", "learning-rate", "0.002",
                "patience", "0"), images);
        OnnxModel cnn = trained.model();
        double before = MnistCnn.accuracy(cnn);
        System.out.printf(Locale.ROOT, "%n## Structured pruning of a BatchNorm CNN, with and without fine-tuning%n%n"
                + "CNN: 1x28x28 -> 3 x (Conv 3x3, BatchNormalization, Relu; MaxPool after the first two) with 16/32/64"
                + " channels -> GlobalAveragePool -> Gemm; trained here for 15 epochs (%.1f s): %,d multiply-adds per"
                + " image, %.2f%% top-1 on the held-out digits.%n%n| ratio | multiply-adds | fewer | pruned top-1 |"
                + " fine-tuned top-1 | fine-tuning s |%n|---|---|---|---|---|---|%n",
                trained.figures().get("training-seconds"), MnistCnn.multiplyAdds(cnn), 100 * before);
        for (String ratio : List.of("0.3", "0.5")) {
            OnnxModel pruned = apply(new StructuredPruningPlugin(), cnn, Map.of("ratio", ratio), images).model();
            PluginResult tuned = apply(new FineTunePlugin(), pruned, Map.of("epochs", "6", "learning-rate", "0.001"),
                    images);
            long macs = MnistCnn.multiplyAdds(pruned);
            System.out.printf(Locale.ROOT, "| %s | %,d | %.2fx | %.2f%% | %.2f%% | %.1f |%n", ratio, macs,
                    (double) MnistCnn.multiplyAdds(cnn) / macs, 100 * MnistCnn.accuracy(pruned),
                    100 * MnistCnn.accuracy(tuned.model()), tuned.figures().get("training-seconds"));
            csv.add(String.format(Locale.ROOT, "cnn-structured,%s,,%d,%.3f,%.4f,%.4f,%.2f", ratio, macs,
                    (double) MnistCnn.multiplyAdds(cnn) / macs, MnistCnn.accuracy(tuned.model()), before,
                    tuned.figures().get("training-seconds")));
        }
    }

    private PluginResult apply(CompressionPlugin plugin, OnnxModel model, Map<String, String> options,
            CalibrationData on) throws Exception {
        Path folder = Files.createDirectories(temp.resolve(runs++ + "-" + plugin.id()));
        return plugin.apply(model, PluginOptions.resolve(plugin.options(), options),
                PluginTestContext.in(folder).withCalibration(on));
    }

    /** Digits [from, to) as labelled [N, 1, 28, 28] images in samples of 500. */
    static CalibrationData imageData(int from, int to) {
        io.modelpress.testkit.Mnist digits = io.modelpress.testkit.Mnist.load();
        List<Map<String, io.modelpress.spi.TensorData>> samples = new ArrayList<>();
        List<io.modelpress.spi.TensorData> labels = new ArrayList<>();
        for (int start = from; start < to; start += 500) {
            int end = Math.min(to, start + 500);
            samples.add(Map.of(MnistCnn.INPUT, io.modelpress.spi.TensorData.ofFloats(
                    new long[] {end - start, 1, 28, 28}, digits.images(start, end))));
            long[] classes = new long[end - start];
            for (int i = start; i < end; i++) {
                classes[i - start] = digits.label(i);
            }
            labels.add(io.modelpress.spi.TensorData.ofLongs(new long[] {end - start}, classes));
        }
        return CalibrationData.of(samples, labels);
    }

    private static Map<String, String> tuning(int epochs, String seed) {
        return Map.of("epochs", Integer.toString(epochs), "learning-rate", "0.001", "patience", "0", "seed", seed);
    }

    private Outcome run(OnnxModel original, List<Step> chain) throws Exception {
        OnnxModel model = original;
        double seconds = 0;
        long packaged = -1;
        for (Step step : chain) {
            Path folder = Files.createDirectories(temp.resolve(runs++ + "-" + step.plugin().id()));
            PluginResult result = step.plugin().apply(model, PluginOptions.resolve(step.plugin().options(),
                    step.options()), PluginTestContext.in(folder).withCalibration(data));
            seconds += result.figures().getOrDefault("training-seconds", 0.0);
            Path artifact = result.artifacts().get(PackagePlugin.ARTIFACT);
            if (artifact != null) {
                packaged = Files.size(artifact);
                Path unpacked = folder.resolve("received/model.onnx");
                Unpacker.unpack(artifact, unpacked);
                model = OnnxModel.load(unpacked);
            } else {
                model = result.model();
            }
        }
        return new Outcome(accuracy(model), packaged, seconds);
    }

    private static double accuracy(OnnxModel model) {
        return MnistModels.accuracy(model, MnistModels.TRAIN, 10_000);
    }

    private static Step step(CompressionPlugin plugin, String option, String value) {
        return new Step(plugin, Map.of(option, value));
    }

    private record Step(CompressionPlugin plugin, Map<String, String> options) {
    }
}

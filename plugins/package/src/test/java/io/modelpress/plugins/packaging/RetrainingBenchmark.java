package io.modelpress.plugins.packaging;

import io.modelpress.model.OnnxModel;
import io.modelpress.plugins.distillation.FineTunePlugin;
import io.modelpress.plugins.pruning.MagnitudePruningPlugin;
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
 * sparsities; and gradual magnitude pruning (prune a little, fine-tune, repeat) against one-shot
 * pruning to the same sparsity with as many epochs. Fine-tuning trains on digits [0, 8000) (which
 * trained the model); every accuracy is top-1 on digits [8000, 10000), which no step saw, measured on
 * the unpacked file in ONNX Runtime. Prints Markdown, writes target/retraining.csv. Not a test:
 * bench/retraining.sh runs it.
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
        bench.chains();
        bench.gradual();
        Path out = Path.of("target/retraining.csv");
        Files.createDirectories(out.getParent());
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

    /** Gradual pruning to 0.94 and 0.97 in four stages of three epochs against one cut and twelve epochs. */
    private void gradual() throws Exception {
        OnnxModel original = MnistModels.mlp();
        System.out.printf(Locale.ROOT, "%n## Gradual against one-shot magnitude pruning (12 epochs of fine-tuning each,"
                + " no sharing)%n%n| sparsity | one-shot + fine-tune top-1 | gradual top-1 | one-shot training s"
                + " | gradual training s |%n|---|---|---|---|---|%n");
        Map<String, String> threeEpochs = Map.of("epochs", "3", "learning-rate", "0.001");
        for (double target : List.of(0.94, 0.97)) {
            Outcome oneShot = run(original, List.of(step(new MagnitudePruningPlugin(), "sparsity", Double.toString(target)),
                    new Step(new FineTunePlugin(), Map.of("epochs", "12", "learning-rate", "0.001", "patience", "0"))));
            List<Step> stages = new ArrayList<>();
            for (double fraction : new double[] {0.55, 0.8, 0.93, 1.0}) {
                String sparsity = String.format(Locale.ROOT, "%.4f", target * fraction);
                stages.add(step(new MagnitudePruningPlugin(), "sparsity", sparsity));
                stages.add(new Step(new FineTunePlugin(), threeEpochs));
            }
            Outcome gradual = run(original, stages);
            System.out.printf(Locale.ROOT, "| %.2f | %.2f%% | %.2f%% | %.1f | %.1f |%n", target, 100 * oneShot.accuracy(),
                    100 * gradual.accuracy(), oneShot.trainingSeconds(), gradual.trainingSeconds());
            csv.add(String.format(Locale.ROOT, "prune-once-fine-tune,%.2f,,,,%.4f,,%.2f", target, oneShot.accuracy(),
                    oneShot.trainingSeconds()));
            csv.add(String.format(Locale.ROOT, "gradual,%.2f,,,,%.4f,,%.2f", target, gradual.accuracy(),
                    gradual.trainingSeconds()));
        }
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

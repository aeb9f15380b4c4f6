package io.modelpress.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelpress.engine.Reports;
import io.modelpress.engine.data.NpzData;
import io.modelpress.engine.data.NpzWriter;
import io.modelpress.model.OnnxModel;
import io.modelpress.testkit.Mnist;
import io.modelpress.testkit.MnistModels;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retraining as a user runs it: a chain with fine-tuning on the command line, the plugin found and hosted by the
 * engine, trained on the labelled calibration file and judged on the held-out evaluation file.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS) // a guard against hangs, not a performance check
class RetrainingChainCliTest {

    @TempDir
    Path temp;

    @Test
    void fineTuningInAChainRecoversWhatPruningCost() throws IOException {
        DemoSample sample = DemoSample.write(temp.resolve("sample"));
        Path training = labelledDigits(OnnxModel.load(sample.model()).proto().getGraph().getInput(0).getName(), 3000);
        Path pruned = temp.resolve("pruned");
        Path tuned = temp.resolve("tuned");
        Run cut = compress(sample, training, pruned, "magnitude-pruning:sparsity=0.9");
        // gradual pruning: the same plugins twice in one chain, each cut keeping the zeros of the one before
        Run retrained = compress(sample, training, tuned, "magnitude-pruning:sparsity=0.6",
                "fine-tune:epochs=2,learning-rate=0.001", "magnitude-pruning:sparsity=0.9",
                "fine-tune:epochs=2,learning-rate=0.001", "package");
        assertEquals(0, cut.exit(), cut.out() + cut.err());
        assertEquals(0, retrained.exit(), retrained.out() + retrained.err());

        JsonNode report = Reports.json().readTree(tuned.resolve("report.json").toFile());
        List<String> plugins = new ArrayList<>();
        report.get("plan").forEach(step -> plugins.add(step.get("plugin").asText()));
        assertEquals(List.of("magnitude-pruning", "fine-tune", "magnitude-pruning", "fine-tune", "package"), plugins,
                retrained.out());
        assertEquals("complete", report.get("status").asText(), retrained.out());
        double pruningOnly = MnistModels.accuracy(OnnxModel.load(pruned.resolve("model.onnx")), MnistModels.TRAIN,
                10_000);
        double fineTuned = MnistModels.accuracy(OnnxModel.load(tuned.resolve("model.onnx")), MnistModels.TRAIN, 10_000);
        double original = MnistModels.accuracy(OnnxModel.load(sample.model()), MnistModels.TRAIN, 10_000);
        assertTrue(fineTuned > pruningOnly + 0.02 && fineTuned > original - 0.02, "held-out top-1: original " + original
                + ", pruned " + pruningOnly + ", pruned and fine-tuned " + fineTuned + "\n" + retrained.out());
    }

    /** The planner's gradual candidate as one step: the sparsity rises while the model trains. */
    @Test
    void gradualPruningInsideOneFineTuneReachesItsSparsityAndKeepsTheAccuracy() throws IOException {
        DemoSample sample = DemoSample.write(temp.resolve("sample"));
        Path training = labelledDigits(OnnxModel.load(sample.model()).proto().getGraph().getInput(0).getName(), 3000);
        Path out = temp.resolve("gradual");
        Run run = compress(sample, training, out, "fine-tune:epochs=3,learning-rate=0.001,prune-to=0.8", "package");
        assertEquals(0, run.exit(), run.out() + run.err());

        JsonNode report = Reports.json().readTree(out.resolve("report.json").toFile());
        JsonNode tune = report.get("steps").get(0);
        assertEquals("fine-tune", tune.get("plugin").asText(), run.out());
        assertEquals(0.8, tune.get("figures").get("sparsity").asDouble(), 1e-4, tune.toString());
        OnnxModel result = OnnxModel.load(out.resolve("model.onnx"));
        long zeros = 0;
        long weights = 0;
        for (var tensor : result.proto().getGraph().getInitializerList()) {
            if (tensor.getDimsCount() == 2) {
                for (float value : io.modelpress.model.Tensors.toFloats(tensor)) {
                    zeros += value == 0f ? 1 : 0;
                    weights++;
                }
            }
        }
        assertEquals(0.8, (double) zeros / weights, 1e-3, "the written weight matrices are 80% zeros");
        double original = MnistModels.accuracy(OnnxModel.load(sample.model()), MnistModels.TRAIN, 10_000);
        double gradual = MnistModels.accuracy(result, MnistModels.TRAIN, 10_000);
        assertTrue(gradual > original - 0.02, "held-out top-1: original " + original + ", gradually pruned to 80% "
                + gradual + "\n" + run.out());
    }

    private Path labelledDigits(String input, int rows) throws IOException {
        Path training = temp.resolve("training.npz");
        Mnist digits = Mnist.load();
        long[] labels = new long[rows];
        for (int i = 0; i < rows; i++) {
            labels[i] = digits.label(i);
        }
        try (NpzWriter out = new NpzWriter(training)) {
            out.floats(input, new long[] {rows, Mnist.PIXELS}, digits.images(0, rows));
            out.longs(NpzData.LABELS, new long[] {rows}, labels);
        }
        return training;
    }

    private record Run(int exit, String out, String err) {
    }

    private static Run compress(DemoSample sample, Path training, Path out, String... chain) {
        List<String> args = new ArrayList<>(List.of("compress", sample.model().toString(), "--profile", "x86-vnni",
                "--calibration", training.toString(), "--evaluation", sample.evaluation().toString(), "--quiet",
                "--out", out.toString()));
        for (String step : chain) {
            args.add("--plugin");
            args.add(step);
        }
        StringWriter stdout = new StringWriter();
        StringWriter stderr = new StringWriter();
        int exit = ModelpressCli.run(args.toArray(String[]::new), new PrintWriter(stdout, true),
                new PrintWriter(stderr, true));
        return new Run(exit, stdout.toString(), stderr.toString());
    }
}

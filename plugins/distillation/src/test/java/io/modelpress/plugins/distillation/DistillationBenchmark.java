package io.modelpress.plugins.distillation;

import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.PluginTestContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Distils the MNIST teachers (the shipped MLP, and the same network as a CNN) with several
 * settings and prints a markdown table: sizes, training time, agreement with the teacher and
 * top-1 accuracy on the held-out digits [8000, 10000), which neither teacher nor student saw.
 * Run by {@code bench/distillation.sh}; arguments, if any, are extra scenarios
 * {@code mlp|cnn|mlp-unlabelled:key=value,...}.
 */
public final class DistillationBenchmark {

    private record Scenario(String teacher, Map<String, String> options) {

        static Scenario parse(String text) {
            String[] parts = text.split(":", 2);
            Map<String, String> options = new LinkedHashMap<>();
            if (parts.length > 1 && !parts[1].isBlank()) {
                for (String pair : parts[1].split(",")) {
                    String[] kv = pair.split("=", 2);
                    options.put(kv[0].strip(), kv[1].strip());
                }
            }
            return new Scenario(parts[0], options);
        }

        String label() {
            return teacher + (options.isEmpty() ? " (defaults)" : " " + options);
        }
    }

    private DistillationBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        List<Scenario> scenarios = new ArrayList<>();
        if (args.length == 0) {
            String quick = "width-multiplier=0.28,epochs=8,batch-size=128,learning-rate=0.005,mixup=2";
            for (String text : List.of("mlp:" + quick, "mlp:" + quick + ",seed=1", "mlp:" + quick + ",seed=2",
                    "mlp-unlabelled:" + quick, "mlp:", "mlp:width-multiplier=0.125", "cnn:epochs=4,mixup=0",
                    "cnn:epochs=10")) {
                scenarios.add(Scenario.parse(text));
            }
        } else {
            for (String arg : args) {
                scenarios.add(Scenario.parse(arg));
            }
        }
        Path temp = Files.createTempDirectory("distillation-bench");
        DistillationPlugin plugin = new DistillationPlugin();
        System.out.println("| teacher and options | teacher params | student params | reduction | teacher bytes"
                + " | student bytes | training s | epochs (best) | held-out agreement | teacher top-1 | student top-1"
                + " | drop (points) |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (Scenario scenario : scenarios) {
            boolean cnn = scenario.teacher().equals("cnn");
            long[] row = cnn ? MnistTeachers.IMAGE : MnistTeachers.FLAT;
            OnnxModel teacher = cnn ? MnistTeachers.cnn() : MnistModels.mlp();
            CalibrationData data = MnistTeachers.digits(0, MnistModels.TRAIN, 100, row,
                    !scenario.teacher().endsWith("unlabelled"));
            PluginResult result = plugin.apply(teacher, PluginOptions.resolve(plugin.options(), scenario.options()),
                    PluginTestContext.in(temp).withCalibration(data));
            double before = MnistTeachers.accuracy(teacher, MnistModels.TRAIN, 10000, row);
            double after = MnistTeachers.accuracy(result.model(), MnistModels.TRAIN, 10000, row);
            Map<String, Double> f = result.figures();
            System.out.printf(Locale.ROOT, "| %s | %,.0f | %,.0f | %.1fx | %,.0f | %,.0f | %.1f | %.0f (%.0f)"
                            + " | %.2f%% | %.2f%% | %.2f%% | %.2f |%n", scenario.label(), f.get("teacher-parameters"),
                    f.get("student-parameters"), f.get("parameter-reduction"), f.get("teacher-bytes"),
                    f.get("student-bytes"), f.get("training-seconds"), f.get("epochs"), f.get("best-epoch"),
                    100 * f.get("holdout-agreement"), 100 * before, 100 * after, 100 * (before - after));
        }
    }
}

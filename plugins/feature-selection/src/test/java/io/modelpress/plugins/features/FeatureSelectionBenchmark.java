package io.modelpress.plugins.features;

import io.modelpress.model.OnnxModel;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.PluginTestContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Feature selection on the shipped MNIST MLP with several options, scored on weights alone and on
 * 2,000 training digits, with top-1 accuracy on the 2,000 held-out digits before and after. Not a
 * test: {@code bench/feature-selection.sh}, results go to bench/low-rank.md.
 */
public final class FeatureSelectionBenchmark {

    private FeatureSelectionBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        System.out.printf("java %s, %d cores%n", System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors());
        OnnxModel model = MnistModels.mlp();
        FeatureSelectionPlugin plugin = new FeatureSelectionPlugin();
        Path temp = Files.createTempDirectory("feature-selection-bench");
        PluginTestContext plain = PluginTestContext.in(temp);
        PluginTestContext digits = plain.withCalibration(MnistModels.calibration("pixels", 0, 2000, 500));
        double before = MnistModels.accuracy(model, MnistModels.TRAIN, 10_000);
        System.out.println("\n| scoring | options | pixels kept | parameters before → after | fidelity loss (calibration)"
                + " | held-out top-1 before → after | ms (wall) |");
        System.out.println("| --- | --- | --- | --- | --- | --- | --- |");
        Map<String, PluginTestContext> contexts = new LinkedHashMap<>();
        contexts.put("weight norms", plain);
        contexts.put("2,000 digits", digits);
        for (Map.Entry<String, PluginTestContext> context : contexts.entrySet()) {
            for (Map<String, String> options : List.of(Map.of("threshold", "0.01"), Map.of("threshold", "0.05"),
                    Map.of("threshold", "0.1"), Map.of("keep-ratio", "0.5"), Map.of("keep-ratio", "0.3"),
                    Map.of("keep-ratio", "0.3", "max-fidelity-loss", "1"))) {
                row(model, plugin, context.getKey(), context.getValue(), options, before);
            }
        }
    }

    private static void row(OnnxModel model, FeatureSelectionPlugin plugin, String scoring, PluginTestContext context,
            Map<String, String> options, double before) {
        long start = System.nanoTime();
        PluginResult result;
        try {
            result = plugin.apply(model, PluginOptions.resolve(plugin.options(), options), context);
        } catch (PluginException e) {
            System.out.printf("| %s | %s | %s | | | | |%n", scoring, options, e.getMessage());
            return;
        }
        double ms = (System.nanoTime() - start) / 1e6;
        int[] kept = FeatureSelectionPluginTest.parseRanges(
                FeatureSelectionPluginTest.metadata(result.model(), "feature-selection:pixels"));
        double after = MnistFeatureSelectionTest.accuracy(result.model(), kept, MnistModels.TRAIN, 10_000);
        Double loss = result.figures().get("fidelity-loss");
        System.out.printf(Locale.ROOT, "| %s | %s | %d | %.0f → %.0f | %s | %.4f → %.4f | %.0f |%n", scoring, options,
                kept.length, result.figures().get("parameters-before"), result.figures().get("parameters-after"),
                loss == null ? "not measured" : String.format(Locale.ROOT, "%.4f", loss), before, after, ms);
    }
}

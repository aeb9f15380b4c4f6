package io.modelpress.plugins.pruning;

import io.modelpress.model.OnnxModel;
import io.modelpress.spi.PluginResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What a pruning run found, gathered before the pruned model exists. */
final class Report {

    private final List<String> changes = new ArrayList<>();
    private final List<PluginResult.Skipped> skipped = new ArrayList<>();
    private final Map<String, Double> figures = new LinkedHashMap<>();

    Report change(String line) {
        changes.add(line);
        return this;
    }

    Report skipped(String part, String reason) {
        skipped.add(new PluginResult.Skipped(part, reason));
        return this;
    }

    Report figure(String name, double value) {
        figures.put(name, value);
        return this;
    }

    PluginResult build(OnnxModel model) {
        PluginResult.Builder builder = PluginResult.builder(model);
        changes.forEach(builder::change);
        skipped.forEach(s -> builder.skipped(s.part(), s.reason()));
        figures.forEach(builder::figure);
        return builder.build();
    }
}

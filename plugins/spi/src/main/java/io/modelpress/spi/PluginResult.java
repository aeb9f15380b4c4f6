package io.modelpress.spi;

import io.modelpress.model.OnnxModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a plugin made: the new model, what it changed, what it left alone and why, and the
 * figures it knows (e.g. {@code sparsity}, {@code clusters}).
 *
 * @param model the new model (the input model is never changed)
 * @param changes one line per change, for people
 * @param skipped parts left unchanged, each with the reason
 * @param figures numbers the plugin measured, by lowercase-with-dashes name
 * @param artifacts extra files the plugin wrote in its temp folder that belong with the result, by file name
 */
public record PluginResult(OnnxModel model, List<String> changes, List<Skipped> skipped, Map<String, Double> figures,
        Map<String, Path> artifacts) {

    /** A part of the model a plugin left as it was. */
    public record Skipped(String part, String reason) {
    }

    public PluginResult {
        Objects.requireNonNull(model, "model is null");
        changes = List.copyOf(changes);
        skipped = List.copyOf(skipped);
        figures = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(figures));
        artifacts = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(artifacts));
    }

    public static Builder builder(OnnxModel model) {
        return new Builder(model);
    }

    public static final class Builder {
        private final OnnxModel model;
        private final List<String> changes = new ArrayList<>();
        private final List<Skipped> skipped = new ArrayList<>();
        private final Map<String, Double> figures = new LinkedHashMap<>();
        private final Map<String, Path> artifacts = new LinkedHashMap<>();

        private Builder(OnnxModel model) {
            this.model = model;
        }

        public Builder change(String change) {
            changes.add(change);
            return this;
        }

        public Builder skipped(String part, String reason) {
            skipped.add(new Skipped(part, reason));
            return this;
        }

        public Builder figure(String name, double value) {
            figures.put(name, value);
            return this;
        }

        public Builder artifact(String fileName, Path file) {
            artifacts.put(fileName, file);
            return this;
        }

        public PluginResult build() {
            return new PluginResult(model, changes, skipped, figures, artifacts);
        }
    }
}

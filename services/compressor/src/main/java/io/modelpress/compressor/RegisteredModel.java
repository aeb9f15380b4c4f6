package io.modelpress.compressor;

import io.modelpress.engine.job.BudgetOverrides;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * The data of a model-registered event, already valid against {@code model-registered.schema.json}.
 *
 * @param profiles empty when the event named none (the configured defaults apply)
 * @param chain empty when the event named none (the chain chooser decides)
 */
public record RegisteredModel(String modelId, String version, String artifactUri, Optional<String> sha256,
        OptionalLong sizeBytes, List<String> profiles, Optional<String> calibrationDataUri,
        Optional<String> evaluationDataUri, Optional<Budgets> budgets, Map<String, String> labels, List<String> chain) {

    public RegisteredModel {
        Objects.requireNonNull(modelId, "modelId is null");
        Objects.requireNonNull(version, "version is null");
        Objects.requireNonNull(artifactUri, "artifactUri is null");
        sha256 = sha256 == null ? Optional.empty() : sha256;
        sizeBytes = sizeBytes == null ? OptionalLong.empty() : sizeBytes;
        profiles = profiles == null ? List.of() : List.copyOf(profiles);
        calibrationDataUri = calibrationDataUri == null ? Optional.empty() : calibrationDataUri;
        evaluationDataUri = evaluationDataUri == null ? Optional.empty() : evaluationDataUri;
        budgets = budgets == null ? Optional.empty() : budgets;
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        chain = chain == null ? List.of() : List.copyOf(chain);
    }

    /** Budget overrides; each replaces the profile's own when present. */
    /** Budget overrides; {@code maxAccuracyDrop} is in percentage points, the cosines are floors from 0 to 1. */
    public record Budgets(OptionalLong sizeBytes, OptionalLong memoryBytes, OptionalDouble latencyMillis,
            OptionalDouble maxAccuracyDrop, OptionalDouble minMeanCosine, OptionalDouble minWorstCosine) {
        public Budgets {
            sizeBytes = sizeBytes == null ? OptionalLong.empty() : sizeBytes;
            memoryBytes = memoryBytes == null ? OptionalLong.empty() : memoryBytes;
            latencyMillis = latencyMillis == null ? OptionalDouble.empty() : latencyMillis;
            maxAccuracyDrop = maxAccuracyDrop == null ? OptionalDouble.empty() : maxAccuracyDrop;
            minMeanCosine = minMeanCosine == null ? OptionalDouble.empty() : minMeanCosine;
            minWorstCosine = minWorstCosine == null ? OptionalDouble.empty() : minWorstCosine;
        }

        /** The same budgets as the engine's job applies them to a profile. */
        public BudgetOverrides overrides() {
            return new BudgetOverrides(sizeBytes, memoryBytes, latencyMillis, maxAccuracyDrop, minMeanCosine,
                    minWorstCosine);
        }
    }
}

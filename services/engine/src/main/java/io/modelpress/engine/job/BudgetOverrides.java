package io.modelpress.engine.job;

import io.modelpress.spi.HardwareProfile;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * A request's own budgets, each replacing the profile's when given: the profile as applied is what
 * the chain is chosen for and what the request's identity holds.
 */
public record BudgetOverrides(OptionalLong sizeBytes, OptionalLong memoryBytes, OptionalDouble latencyMillis,
        OptionalDouble maxAccuracyDrop, OptionalDouble minMeanCosine, OptionalDouble minWorstCosine) {

    public static final BudgetOverrides NONE = new BudgetOverrides(OptionalLong.empty(), OptionalLong.empty(),
            OptionalDouble.empty(), OptionalDouble.empty(), OptionalDouble.empty(), OptionalDouble.empty());

    public BudgetOverrides {
        Objects.requireNonNull(sizeBytes, "sizeBytes is null");
        Objects.requireNonNull(memoryBytes, "memoryBytes is null");
        Objects.requireNonNull(latencyMillis, "latencyMillis is null");
        Objects.requireNonNull(maxAccuracyDrop, "maxAccuracyDrop is null");
        Objects.requireNonNull(minMeanCosine, "minMeanCosine is null");
        Objects.requireNonNull(minWorstCosine, "minWorstCosine is null");
    }

    /**
     * The profile with these budgets in place of its own.
     *
     * @param requireRealData whether the result must be judged on real data whatever the profile says
     * @return the profile itself when nothing is overridden, so its identity stays the profile's
     */
    public HardwareProfile applyTo(HardwareProfile profile, boolean requireRealData) {
        Objects.requireNonNull(profile, "profile is null");
        if (equals(NONE) && !requireRealData) {
            return profile;
        }
        return new HardwareProfile(profile.id(), profile.description(), profile.precisions(),
                profile.quantizedFormat(), profile.executionProvider(),
                memoryBytes.isPresent() ? memoryBytes : profile.memoryBudgetBytes(),
                sizeBytes.isPresent() ? sizeBytes : profile.sizeBudgetBytes(),
                latencyMillis.isPresent() ? latencyMillis : profile.latencyBudgetMillis(),
                maxAccuracyDrop.orElse(profile.maxAccuracyDrop()), profile.batchSize(), profile.threads(),
                minMeanCosine.isPresent() ? minMeanCosine : profile.minMeanCosine(),
                minWorstCosine.isPresent() ? minWorstCosine : profile.minWorstCosine(),
                profile.requireRealData() || requireRealData, profile.operators());
    }
}

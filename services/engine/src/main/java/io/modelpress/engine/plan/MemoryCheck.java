package io.modelpress.engine.plan;

import io.modelpress.engine.ProgressListener;
import io.modelpress.inference.SessionMemory;
import io.modelpress.model.ModelException;
import io.modelpress.spi.HardwareProfile;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.IntFunction;

/**
 * The memory budget, checked by measuring the compressed model's session in a fresh process
 * ({@link SessionMemory}). A measurement costs a JVM start and a model load, so only finalists are measured: the
 * candidate that would be chosen on every other budget, then, if its session is over the budget, the next one,
 * until one fits or none is left. A finalist that cannot be measured stays chosen with its memory reported as not
 * checked, and why.
 */
final class MemoryCheck {

    private final Budget budget;
    private final HardwareProfile profile;
    private final ProgressListener listener;
    private final Map<Integer, String> unmeasured = new HashMap<>();

    MemoryCheck(Budget budget, HardwareProfile profile, ProgressListener listener) {
        this.budget = Objects.requireNonNull(budget, "budget is null");
        this.profile = Objects.requireNonNull(profile, "profile is null");
        this.listener = Objects.requireNonNull(listener, "listener is null");
    }

    /**
     * Measures finalists in {@code trials} (indexed by position) until the best that meets every budget fits its
     * memory too, replacing each measured trial with its figure and, when over, the violation.
     *
     * @param modelFile the compressed model file of the trial at an index
     */
    void settle(List<Trial> trials, IntFunction<Path> modelFile) {
        if (budget.maxMemoryBytes().isEmpty()) {
            return;
        }
        long limit = budget.maxMemoryBytes().getAsLong();
        while (true) {
            Optional<Trial> best = Selection.best(trials);
            if (best.isEmpty() || best.get().memoryBytes().isPresent() || unmeasured.containsKey(best.get().index())) {
                return;
            }
            Trial trial = best.get();
            listener.progress("plan: memory", 1, "measuring the session memory of " + trial.chainText());
            try {
                SessionMemory memory = SessionMemory.measure(modelFile.apply(trial.index()), profile.batchSize(),
                        profile.threads());
                Optional<String> over = memory.peakBytes() > limit
                        ? Optional.of("session memory " + memory.peakBytes() + " bytes is over the " + limit + " allowed")
                        : Optional.empty();
                trials.set(trial.index(), trial.withMemory(memory.peakBytes(), over));
            } catch (ModelException e) {
                unmeasured.put(trial.index(), e.getMessage());
            }
        }
    }

    /** The memory budget as checked for the chosen trial; empty when the budget bounds no memory. */
    Optional<BudgetCheck> budgetCheck(Trial chosen) {
        if (budget.maxMemoryBytes().isEmpty()) {
            return Optional.empty();
        }
        String limit = budget.maxMemoryBytes().getAsLong() + " bytes";
        if (chosen.memoryBytes().isEmpty()) {
            return Optional.of(BudgetCheck.notChecked("memory", limit,
                    unmeasured.getOrDefault(chosen.index(), "the session's memory was not measured")));
        }
        long bytes = chosen.memoryBytes().getAsLong();
        return Optional.of(new BudgetCheck("memory", limit, Optional.of(bytes + " bytes"),
                bytes <= budget.maxMemoryBytes().getAsLong() ? BudgetCheck.MET : BudgetCheck.MISSED,
                Optional.of(SessionMemory.METHOD + ", at batch " + profile.batchSize() + " on this host")));
    }
}

package io.modelpress.engine.plan;

import io.modelpress.engine.Judging;
import io.modelpress.engine.ProgressListener;
import io.modelpress.inference.SessionMemory;
import io.modelpress.model.ModelException;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.TensorData;
import java.nio.file.Path;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.LinkedHashMap;
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
    private final Optional<Map<String, TensorData>> sample;
    private final Map<Integer, String> unmeasured = new HashMap<>();

    /** @param judging the data that judges the candidates: its first sample is what the session runs on */
    MemoryCheck(Budget budget, HardwareProfile profile, Judging judging, ProgressListener listener) {
        this.budget = Objects.requireNonNull(budget, "budget is null");
        this.profile = Objects.requireNonNull(profile, "profile is null");
        this.listener = Objects.requireNonNull(listener, "listener is null");
        this.sample = judging.judge().filter(data -> data.size() > 0)
                .map(data -> atBatch(data.sample(0), profile.batchSize()));
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
                        profile.threads(), sample);
                Optional<String> over = memory.peakBytes() > limit
                        ? Optional.of("session memory " + memory.peakBytes() + " bytes is over the " + limit + " allowed")
                        : Optional.empty();
                trials.set(trial.index(), trial.withMemory(memory.peakBytes(), over));
            } catch (ModelException e) {
                unmeasured.put(trial.index(), e.getMessage());
            }
        }
    }

    /**
     * The first {@code batch} rows of a sample whose inputs share a larger first dim: memory is checked at the
     * profile's batch size, whatever batches the data came in. Inputs without that first dim stay as they are.
     */
    static Map<String, TensorData> atBatch(Map<String, TensorData> sample, int batch) {
        long rows = sample.values().stream().filter(t -> t.shape().length > 0).mapToLong(t -> t.shape()[0]).max().orElse(0);
        if (rows <= batch) {
            return sample;
        }
        Map<String, TensorData> cut = new LinkedHashMap<>();
        sample.forEach((name, tensor) -> {
            long[] shape = tensor.shape();
            if (shape.length == 0 || shape[0] != rows) {
                cut.put(name, tensor);
                return;
            }
            ByteBuffer data = tensor.data();
            int keep = (int) (data.remaining() / rows * batch);
            ByteBuffer head = data.slice();
            head.limit(keep);
            shape[0] = batch;
            cut.put(name, new TensorData(tensor.type(), shape, head));
        });
        return cut;
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
                Optional.of(SessionMemory.METHOD + "; run on " + (sample.isPresent() ? "the first judging sample"
                        : "generated inputs") + " at batch " + profile.batchSize() + ", on this host")));
    }
}

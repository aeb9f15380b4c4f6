package io.modelpress.engine.plan;

import io.modelpress.engine.Judging;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** What would help a request that kept its original: data to give, and which budget to loosen by how much. */
final class Hints {

    private Hints() {
    }

    static String keptOriginal(Optional<Trial> closest, List<Trial> trials, Budget budget, Judging judging) {
        List<String> help = new ArrayList<>();
        if (closest.isEmpty()) {
            help.add("no candidate could be judged (" + trials.stream().filter(t -> t.error().isPresent())
                    .map(t -> t.chainText() + ": " + t.error().get()).findFirst().orElse("none ran") + ")");
        } else {
            Trial trial = closest.get();
            List<String> loosen = new ArrayList<>();
            if (trial.drop().isPresent() && trial.drop().getAsDouble() > budget.maxAccuracyDrop()) {
                loosen.add(String.format("the accuracy drop to %.2f points (--max-accuracy-drop, budget maxAccuracyDrop)",
                        Math.ceil(trial.drop().getAsDouble() * 100) / 100));
            }
            double mean = trial.fidelity().stream().mapToDouble(o -> o.meanCosine()).min().orElse(1);
            double worst = trial.fidelity().stream().mapToDouble(o -> o.minCosine()).min().orElse(1);
            if (mean < budget.floors().meanCosine() || worst < budget.floors().worstCosine()) {
                loosen.add(String.format("the fidelity floors to mean cosine %.4f and worst %.4f (--min-mean-cosine, "
                        + "--min-worst-cosine)", Math.floor(mean * 10000) / 10000, Math.floor(worst * 10000) / 10000));
            }
            if (budget.maxBytes().isPresent() && trial.bytes() > budget.maxBytes().getAsLong()) {
                loosen.add("the size budget to " + trial.bytes() + " bytes (--max-size-mb)");
            }
            if (budget.maxLatencyMillis().isPresent() && trial.latencyMillis().isPresent()
                    && trial.latencyMillis().getAsDouble() > budget.maxLatencyMillis().getAsDouble()) {
                loosen.add(String.format("the latency budget to %.2f ms (--max-latency-ms)", trial.latencyMillis().getAsDouble()));
            }
            if (budget.maxMemoryBytes().isPresent() && trial.memoryBytes().isPresent()
                    && trial.memoryBytes().getAsLong() > budget.maxMemoryBytes().getAsLong()) {
                loosen.add("the memory budget to " + trial.memoryBytes().getAsLong() + " bytes (budgets.memory-mb)");
            }
            help.add("nothing met the budget; " + trial.chainText() + " came closest" + (loosen.isEmpty()
                    ? (trial.violations().isEmpty() ? "" : " but misses what no budget loosens: "
                            + String.join("; ", trial.violations()))
                    : " and would pass with " + String.join(", ", loosen)));
        }
        if (!judging.verified()) {
            help.add("only generated inputs judged, with strict floors: give real inputs (calibration data) or "
                    + "labelled evaluation data, which also lets calibrated chains be tried");
        } else if (judging.tuning().isEmpty()) {
            help.add("no data was left to tune on: give more calibration samples so calibrated chains can be tried");
        }
        return String.join("; ", help);
    }
}

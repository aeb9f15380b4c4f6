package io.modelpress.engine.plan;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Choosing among measured trials. Deterministic: size and drop are exact for a deterministic
 * chain, latency only enters as a budget, and ties go to the earlier candidate.
 */
final class Selection {

    private Selection() {
    }

    /** The smallest trial that meets every budget. */
    static Optional<Trial> best(List<Trial> trials) {
        return trials.stream().filter(Trial::meetsBudget)
                .min(Comparator.comparingLong(Trial::bytes).thenComparingInt(Trial::index));
    }

    /** When nothing meets the budget: the measured trial that misses it by the least, relative to each budget. */
    static Optional<Trial> closest(List<Trial> trials, Budget budget) {
        return trials.stream().filter(Trial::measured)
                .min(Comparator.comparingDouble((Trial trial) -> shortfall(trial, budget)).thenComparingInt(Trial::index));
    }

    /** How far a trial is from its budget: the relative excess over each bound, summed. */
    static double shortfall(Trial trial, Budget budget) {
        double excess = 0;
        double drop = trial.drop().orElse(1);
        if (drop > budget.maxAccuracyDrop()) {
            excess += (drop - budget.maxAccuracyDrop()) / Math.max(budget.maxAccuracyDrop(), 0.001);
        }
        if (budget.maxBytes().isPresent() && trial.bytes() > budget.maxBytes().getAsLong()) {
            excess += (double) (trial.bytes() - budget.maxBytes().getAsLong()) / budget.maxBytes().getAsLong();
        }
        if (budget.maxLatencyMillis().isPresent() && trial.latencyMillis().isPresent()
                && trial.latencyMillis().getAsDouble() > budget.maxLatencyMillis().getAsDouble()) {
            excess += (trial.latencyMillis().getAsDouble() - budget.maxLatencyMillis().getAsDouble())
                    / budget.maxLatencyMillis().getAsDouble();
        }
        return excess;
    }

    /** Budgets a result misses, each with the figure and the bound. */
    static List<String> violations(long bytes, java.util.OptionalDouble latency, double drop, String dropMeasure,
            Budget budget) {
        List<String> missed = new ArrayList<>();
        if (drop > budget.maxAccuracyDrop()) {
            missed.add(String.format("%s drop %.2f points is over the %.2f allowed", dropMeasure, drop * 100,
                    budget.maxAccuracyDrop() * 100));
        }
        if (budget.maxBytes().isPresent() && bytes > budget.maxBytes().getAsLong()) {
            missed.add("size " + bytes + " bytes is over the " + budget.maxBytes().getAsLong() + " allowed");
        }
        if (budget.maxLatencyMillis().isPresent() && latency.isPresent()
                && latency.getAsDouble() > budget.maxLatencyMillis().getAsDouble()) {
            missed.add(String.format("latency %.2f ms is over the %.2f ms allowed", latency.getAsDouble(),
                    budget.maxLatencyMillis().getAsDouble()));
        }
        return missed;
    }

    /** Measured trials that no other measured trial beats or equals on size, latency and drop together. */
    static List<Trial> pareto(List<Trial> trials) {
        List<Trial> measured = trials.stream().filter(Trial::measured).toList();
        return measured.stream().filter(trial -> measured.stream().noneMatch(other -> dominates(other, trial))).toList();
    }

    private static boolean dominates(Trial a, Trial b) {
        if (a == b) {
            return false;
        }
        double latencyA = a.latencyMillis().orElse(Double.MAX_VALUE);
        double latencyB = b.latencyMillis().orElse(Double.MAX_VALUE);
        double dropA = a.drop().orElse(1);
        double dropB = b.drop().orElse(1);
        boolean noWorse = a.bytes() <= b.bytes() && latencyA <= latencyB && dropA <= dropB;
        boolean better = a.bytes() < b.bytes() || latencyA < latencyB || dropA < dropB;
        return noWorse && better;
    }
}

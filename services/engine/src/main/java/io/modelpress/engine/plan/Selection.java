package io.modelpress.engine.plan;

import io.modelpress.inference.OutputFidelity;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * Choosing among measured trials. Deterministic: size and drop are exact for a deterministic
 * chain, latency and memory only enter as budgets, and ties go to the better fidelity; the search
 * order decides only between results that are alike in every figure.
 */
final class Selection {

    private Selection() {
    }

    /** Smaller first; among equal sizes the smaller drop, then the higher fidelity. */
    static final Comparator<Trial> SMALLEST_THEN_FAITHFUL = Comparator.comparingLong(Trial::bytes)
            .thenComparingDouble(trial -> trial.drop().orElse(100))
            .thenComparing(Comparator.comparingDouble(Trial::fidelityScore).reversed())
            .thenComparingInt(Trial::index);

    /** The smallest trial that meets every budget and floor. */
    static Optional<Trial> best(List<Trial> trials) {
        return trials.stream().filter(Trial::meetsBudget).min(SMALLEST_THEN_FAITHFUL);
    }

    /** When nothing meets the budget: the measured trial that misses it by the least, relative to each budget. */
    static Optional<Trial> closest(List<Trial> trials, Budget budget) {
        return trials.stream().filter(Trial::measured)
                .min(Comparator.comparingDouble((Trial trial) -> shortfall(trial, budget))
                        .thenComparing(Comparator.comparingDouble(Trial::fidelityScore).reversed())
                        .thenComparingInt(Trial::index));
    }

    /** How far a trial is from its budget: the relative excess over each bound, summed. */
    static double shortfall(Trial trial, Budget budget) {
        double excess = 0;
        double drop = trial.drop().orElse(100);
        if (drop > budget.maxAccuracyDrop()) {
            excess += (drop - budget.maxAccuracyDrop()) / Math.max(budget.maxAccuracyDrop(), 0.1);
        }
        if (budget.maxBytes().isPresent() && trial.bytes() > budget.maxBytes().getAsLong()) {
            excess += (double) (trial.bytes() - budget.maxBytes().getAsLong()) / budget.maxBytes().getAsLong();
        }
        if (budget.maxLatencyMillis().isPresent() && trial.latencyMillis().isPresent()
                && trial.latencyMillis().getAsDouble() > budget.maxLatencyMillis().getAsDouble()) {
            excess += (trial.latencyMillis().getAsDouble() - budget.maxLatencyMillis().getAsDouble())
                    / budget.maxLatencyMillis().getAsDouble();
        }
        if (budget.maxMemoryBytes().isPresent() && trial.memoryBytes().isPresent()
                && trial.memoryBytes().getAsLong() > budget.maxMemoryBytes().getAsLong()) {
            excess += (double) (trial.memoryBytes().getAsLong() - budget.maxMemoryBytes().getAsLong())
                    / budget.maxMemoryBytes().getAsLong();
        }
        for (OutputFidelity output : trial.fidelity()) {
            excess += Math.max(0, budget.floors().meanCosine() - output.meanCosine()) / 0.01;
            excess += Math.max(0, budget.floors().worstCosine() - output.minCosine()) / 0.01;
        }
        return excess;
    }

    /** Budgets a result misses, each with the figure and the bound; the drop is in percentage points. */
    static List<String> violations(long bytes, OptionalDouble latency, double drop, String dropMeasure,
            Budget budget) {
        return violations(bytes, latency, OptionalLong.empty(), drop, dropMeasure, List.of(), budget);
    }

    static List<String> violations(long bytes, OptionalDouble latency, OptionalLong memory, double drop,
            String dropMeasure, List<OutputFidelity> outputs, Budget budget) {
        List<String> missed = new ArrayList<>();
        if (drop > budget.maxAccuracyDrop()) {
            missed.add(String.format("%s drop %.2f points is over the %.2f points allowed", dropMeasure, drop,
                    budget.maxAccuracyDrop()));
        }
        for (OutputFidelity output : outputs) {
            if (output.meanCosine() < budget.floors().meanCosine()) {
                missed.add(String.format("output '%s' mean cosine %.4f is under the floor %.4f", output.output(),
                        output.meanCosine(), budget.floors().meanCosine()));
            }
            if (output.minCosine() < budget.floors().worstCosine()) {
                missed.add(String.format("output '%s' worst-sample cosine %.4f is under the floor %.4f", output.output(),
                        output.minCosine(), budget.floors().worstCosine()));
            }
        }
        if (budget.maxBytes().isPresent() && bytes > budget.maxBytes().getAsLong()) {
            missed.add("size " + bytes + " bytes is over the " + budget.maxBytes().getAsLong() + " allowed");
        }
        if (budget.maxLatencyMillis().isPresent() && latency.isPresent()
                && latency.getAsDouble() > budget.maxLatencyMillis().getAsDouble()) {
            missed.add(String.format("latency %.2f ms is over the %.2f ms allowed", latency.getAsDouble(),
                    budget.maxLatencyMillis().getAsDouble()));
        }
        if (budget.maxMemoryBytes().isPresent() && memory.isPresent()
                && memory.getAsLong() > budget.maxMemoryBytes().getAsLong()) {
            missed.add("session memory " + memory.getAsLong() + " bytes is over the "
                    + budget.maxMemoryBytes().getAsLong() + " allowed");
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
        double dropA = a.drop().orElse(100);
        double dropB = b.drop().orElse(100);
        boolean noWorse = a.bytes() <= b.bytes() && latencyA <= latencyB && dropA <= dropB;
        boolean better = a.bytes() < b.bytes() || latencyA < latencyB || dropA < dropB;
        return noWorse && better;
    }
}

package io.modelpress.engine.plan;

import java.util.List;
import java.util.Optional;

/**
 * What the planner searched and why it chose what it chose; part of report.json.
 *
 * @param chosen the trial whose model was written, if any ran
 * @param metBudget whether the chosen trial meets every budget (else it is the closest one)
 * @param explanation one paragraph for people: the choice and its reason, or what came closest and why
 * @param dropMeasure what "drop" means here: lost top-1 accuracy on labelled data, or lost fidelity on inputs
 * @param budget the budget searched under
 * @param trials every candidate in search order
 * @param pareto the measured trials no other beats on size, latency and drop at once
 * @param planningMillis how long the search took
 */
public record Planning(Optional<Trial> chosen, boolean metBudget, String explanation, String dropMeasure,
        Budget budget, List<Trial> trials, List<Trial> pareto, long planningMillis) {

    public Planning {
        trials = List.copyOf(trials);
        pareto = List.copyOf(pareto);
    }
}

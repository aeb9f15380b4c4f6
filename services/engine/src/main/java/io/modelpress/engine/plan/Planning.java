package io.modelpress.engine.plan;

import java.util.List;
import java.util.Optional;

/**
 * What the planner searched and why it chose what it chose; part of report.json.
 *
 * @param chosen the trial whose model was written, if one met the budget; empty when the original was kept
 * @param metBudget whether the chosen trial meets every budget and floor
 * @param explanation one paragraph for people: the choice and its reason, or what came closest and why
 * @param dropMeasure what "drop" means here: lost top-1 accuracy on labelled data, or lost agreement with the original
 * @param budget the budget searched under (drop in percentage points)
 * @param trials every candidate in search order
 * @param pareto the measured trials no other beats on size, latency and drop at once
 * @param planningMillis how long the search took
 * @param judgedOn {@code labelled-data}, {@code real-data} or {@code generated-inputs}
 * @param checks every budget of the result as met, missed or not checked
 * @param closest when nothing met the budget: the trial that came closest, with what it missed
 */
public record Planning(Optional<Trial> chosen, boolean metBudget, String explanation, String dropMeasure,
        Budget budget, List<Trial> trials, List<Trial> pareto, long planningMillis, String judgedOn,
        List<BudgetCheck> checks, Optional<Trial> closest) {

    public Planning {
        trials = List.copyOf(trials);
        pareto = List.copyOf(pareto);
        checks = List.copyOf(checks);
    }
}

package io.modelpress.cli;

import io.modelpress.engine.plan.Planning;
import io.modelpress.engine.plan.Trial;
import java.io.PrintWriter;

/** The planner's search as a table: every candidate, its figures, and the choice. */
final class PlanningPrinter {

    private PlanningPrinter() {
    }

    static void print(PrintWriter out, Planning planning) {
        out.printf("planner (judged on %s; drop is %s, in points; %.1f s): %s%n", planning.judgedOn(),
                planning.dropMeasure(), planning.planningMillis() / 1000.0, planning.explanation());
        out.printf("  %-3s %-10s %12s %10s %10s  %s%n", "#", "outcome", "size", "drop", "p50", "chain");
        for (Trial trial : planning.trials()) {
            String marker = planning.chosen().map(chosen -> chosen.index() == trial.index()).orElse(false) ? "*"
                    : planning.pareto().contains(trial) ? "p" : " ";
            out.printf("%s %-3d %-10s %12s %10s %10s  %s%s%n", marker, trial.index(), trial.outcome(),
                    trial.measured() || trial.outcome().equals(Trial.FAILED) ? Format.bytes(trial.bytes()) : "-",
                    trial.drop().isPresent() ? String.format("%.2f pt", trial.drop().getAsDouble()) : "-",
                    trial.latencyMillis().isPresent() ? String.format("%.2f ms", trial.latencyMillis().getAsDouble()) : "-",
                    trial.chainText(), trial.error().map(error -> "  (" + error + ")").orElse(
                            trial.verdict().map(verdict -> "  (" + verdict + ")").orElse("")));
        }
        out.println("  * chosen, p on the Pareto front of size, latency and drop");
        java.util.List<String> untried = planning.trials().stream()
                .filter(trial -> trial.outcome().equals(Trial.NOT_TRIED)
                        && trial.error().orElse("").equals(io.modelpress.engine.plan.Planner.TIME_RAN_OUT))
                .map(trial -> "#" + trial.index()).toList();
        if (!untried.isEmpty()) {
            out.printf("  untried, the time limit ran out first: %s (the choice is the best of the candidates tried "
                    + "before them, in the fixed order; --time-limit gives more time)%n", String.join(", ", untried));
        }
        planning.closest().ifPresent(closest -> out.printf("  kept the original; #%d came closest%n", closest.index()));
        planning.checks().forEach(check -> out.printf("  budget %s: %s (limit %s%s)%s%n", check.budget(), check.state(),
                check.limit(), check.actual().map(actual -> ", measured " + actual).orElse(""),
                check.note().map(note -> ": " + note).orElse("")));
    }
}

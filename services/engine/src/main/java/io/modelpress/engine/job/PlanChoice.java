package io.modelpress.engine.job;

import io.modelpress.engine.ChainStep;
import io.modelpress.engine.plan.Budget;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How the chain for one profile is found: named by the request (an event, the command line), named
 * by the service's configuration, or searched by the engine's planner under a budget.
 *
 * @param by {@link #EVENT}, {@link #COMMAND_LINE}, {@link #CONFIGURATION} or {@link #PLANNER}
 * @param chain the named chain; empty when the planner searches
 * @param budget what the planner's result must meet; empty for a named chain
 */
public record PlanChoice(String by, List<ChainStep> chain, Optional<Budget> budget) {

    public static final String EVENT = "event";
    public static final String COMMAND_LINE = "command-line";
    public static final String CONFIGURATION = "configuration";
    public static final String PLANNER = "planner";

    public PlanChoice {
        Objects.requireNonNull(by, "by is null");
        chain = List.copyOf(chain);
        Objects.requireNonNull(budget, "budget is null");
        if (by.equals(PLANNER) != budget.isPresent() || by.equals(PLANNER) != chain.isEmpty()) {
            throw new IllegalArgumentException("the planner takes a budget and no chain; a named chain the reverse");
        }
    }

    public static PlanChoice named(String by, List<ChainStep> chain) {
        return new PlanChoice(by, chain, Optional.empty());
    }

    public static PlanChoice planned(Budget budget) {
        return new PlanChoice(PLANNER, List.of(), Optional.of(budget));
    }

    public boolean planned() {
        return budget.isPresent();
    }
}

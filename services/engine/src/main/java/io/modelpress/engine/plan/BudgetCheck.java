package io.modelpress.engine.plan;

import java.util.Objects;
import java.util.Optional;

/**
 * One budget as checked against the chosen result: met, missed, or not checked here (and why), never
 * "met" by default.
 *
 * @param budget {@code accuracy-drop}, {@code size}, {@code latency}, {@code memory}, {@code fidelity-floors} or {@code operators}
 * @param limit the bound, with its unit
 * @param actual the measured figure, with its unit, when measured
 * @param state {@link #MET}, {@link #MISSED} or {@link #NOT_CHECKED}
 * @param note why it was not checked, or what was measured
 */
public record BudgetCheck(String budget, String limit, Optional<String> actual, String state, Optional<String> note) {

    public static final String MET = "met";
    public static final String MISSED = "missed";
    public static final String NOT_CHECKED = "not-checked";

    public BudgetCheck {
        Objects.requireNonNull(budget, "budget is null");
        Objects.requireNonNull(limit, "limit is null");
        Objects.requireNonNull(actual, "actual is null");
        Objects.requireNonNull(state, "state is null");
        Objects.requireNonNull(note, "note is null");
    }

    static BudgetCheck measured(String budget, String limit, String actual, boolean met) {
        return new BudgetCheck(budget, limit, Optional.of(actual), met ? MET : MISSED, Optional.empty());
    }

    static BudgetCheck notChecked(String budget, String limit, String why) {
        return new BudgetCheck(budget, limit, Optional.empty(), NOT_CHECKED, Optional.of(why));
    }
}

package io.modelpress.engine.job;

import io.modelpress.engine.CompressionReport;
import io.modelpress.engine.plan.Budget;
import io.modelpress.spi.HardwareProfile;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * What makes two requests the same request, and so the same stored result: the digests every
 * adapter computes alike. They name objects in storage and events on the wire, so their canonical
 * text never changes: a new field would give every stored result a new name.
 */
public final class RequestIdentity {

    private static final int DIGEST_CHARS = 16;
    private static final int EVENT_ID_CHARS = 32;

    private RequestIdentity() {
    }

    /** The planner's budget as it enters a request's identity (and as the result's choice shows it). */
    public record BudgetView(double maxAccuracyDrop, OptionalLong maxBytes, OptionalDouble maxLatencyMillis,
            OptionalLong maxMemoryBytes, double minMeanCosine, double minWorstCosine, long timeLimitMillis) {

        public static BudgetView of(Budget budget) {
            Objects.requireNonNull(budget, "budget is null");
            return new BudgetView(budget.maxAccuracyDrop(), budget.maxBytes(), budget.maxLatencyMillis(),
                    budget.maxMemoryBytes(), budget.floors().meanCosine(), budget.floors().worstCosine(),
                    budget.timeLimit().toMillis());
        }
    }

    /** The profile as applied and the plan: with the input digest, what makes a result the same result. */
    public static String planDigest(HardwareProfile profile, List<CompressionReport.PlanEntry> plan) {
        Objects.requireNonNull(profile, "profile is null");
        Objects.requireNonNull(plan, "plan is null");
        Map<String, Object> identity = new LinkedHashMap<>();
        identity.put("profile", profile);
        identity.put("plan", plan);
        return CanonicalJson.digest(identity, DIGEST_CHARS);
    }

    /**
     * The profile as applied, the named chain's plan or the planner's budget and the installed
     * plugins it chooses among, and the digests of the calibration and evaluation data.
     *
     * @param plan the named chain with every option (defaults included); ignored when the planner chooses
     * @param plugins the installed plugins as {@code id@version}; only the planner's choice depends on them
     * @param calibrationSha256 the sha256 of the calibration file's bytes, if one was given
     * @param evaluationSha256 the sha256 of the evaluation file's bytes, if one was given
     */
    public static String requestDigest(HardwareProfile profile, PlanChoice choice, List<CompressionReport.PlanEntry> plan,
            List<String> plugins, Optional<String> calibrationSha256, Optional<String> evaluationSha256) {
        Objects.requireNonNull(profile, "profile is null");
        Objects.requireNonNull(choice, "choice is null");
        Map<String, Object> identity = new LinkedHashMap<>();
        identity.put("profile", profile);
        if (choice.planned()) {
            identity.put("budget", BudgetView.of(choice.budget().orElseThrow()));
            identity.put("plugins", plugins.stream().sorted().toList());
        } else {
            identity.put("plan", plan);
        }
        calibrationSha256.ifPresent(sha -> identity.put("calibration", sha));
        evaluationSha256.ifPresent(sha -> identity.put("evaluation", sha));
        return CanonicalJson.digest(identity, DIGEST_CHARS);
    }

    /**
     * The id of an output event, deterministic so that a result published again keeps the CloudEvents
     * id consumers may deduplicate on: the same registration of the same request always gets the same one.
     */
    public static String eventId(String modelId, String version, String inputDigest, String profile,
            String requestDigest, String eventType) {
        return CanonicalJson.sha256(modelId + "/" + version + "/" + inputDigest + "/" + profile + "/" + requestDigest
                + "/" + eventType).substring(0, EVENT_ID_CHARS);
    }
}

package io.modelpress.dashboard;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What the page shows, as sent to it (JSON over server-sent events and at /api/state). Figures the
 * events do not carry are null, never guessed.
 *
 * @param version increases with every change; the page and the tests compare it
 * @param broker whether the Kafka broker answers
 * @param totals figures over every model
 * @param eventsRead readable events applied, by topic channel
 * @param malformed records skipped because they could not be read
 * @param models newest first
 * @param profiles every profile seen, for the filter
 * @param labels every label seen as key=value, for the filter
 */
public record DashboardView(long version, Instant generatedAt, Broker broker, Totals totals, Map<String, Long> eventsRead,
        Malformed malformed, List<ModelView> models, List<String> profiles, List<String> labels) {

    /**
     * @param reachable null until the first check
     * @param error why it is not reachable
     */
    public record Broker(Boolean reachable, String bootstrapServers, String error, Instant checkedAt) {
    }

    /**
     * @param modelsLastHour model versions whose first result came in the hour before {@code generatedAt}
     * @param bytesSaved over the latest result of every model version and profile
     * @param medianEventToResultSeconds from the service starting on a model (its first progress event) to each result
     */
    public record Totals(int models, int modelsLastHour, long bytesSaved, Double medianEventToResultSeconds, int results,
            int running, int failures) {
    }

    /** @param recent the latest reasons, newest first, each with its topic */
    public record Malformed(long count, List<String> recent) {
    }

    /**
     * One model version.
     *
     * @param status complete, running or failed (failed when any profile or the model as a whole failed)
     * @param percent of the whole model's work, from the latest progress event
     * @param failures failures not tied to one profile (the artifact could not be fetched, the event was invalid)
     */
    public record ModelView(String modelId, String version, Instant firstSeen, Instant lastSeen, Map<String, String> labels,
            String status, Integer percent, String stage, String message, List<FailureView> failures,
            List<ProfileView> profiles) {
    }

    /**
     * One profile of a model version.
     *
     * @param status running, complete or failed
     * @param judgement what judged the result and what it found
     * @param candidates every chain the planner tried (empty when the chain was named)
     */
    public record ProfileView(String profile, String status, String stage, Instant updatedAt, Sizes sizes, Latency latency,
            Judgement judgement, String chain, Choice choice, List<Candidate> candidates, Links links, FailureView failure,
            Boolean replayed, Long processingMillis) {
    }

    public record Sizes(Long originalBytes, Long compressedBytes, Double sizeRatio, Long bytesSaved, Long packagedBytes) {
    }

    /** @param where what timed them: execution provider, machine, inputs, batch; or why they were not timed */
    public record Latency(Double originalP50Millis, Double compressedP50Millis, Double speedup, String where) {
    }

    /**
     * @param measure "accuracy" (labelled data) or "fidelity" (the original's outputs)
     * @param before top-1 accuracy of the original, for accuracy
     * @param after top-1 accuracy of the result, or the mean cosine for fidelity
     * @param worst the worst cosine, for fidelity
     * @param judgedBy the data that judged it, as the result says
     */
    public record Judgement(String measure, Double before, Double after, Double worst, String judgedBy) {
    }

    public record Choice(String by, Boolean metBudget, String explanation, String dropMeasure) {
    }

    /** @param pareto no other measured candidate is at least as good on size, latency and drop and better on one */
    public record Candidate(String chain, String outcome, Long bytes, Double drop, Double latencyMillis, boolean chosen,
            boolean pareto, String note) {
    }

    /** S3 URIs; the page reaches them through /api/file. */
    public record Links(String artifact, String report, String reportHtml) {
    }

    public record FailureView(String profile, String stage, String reason, boolean retryable, Instant at) {
    }
}

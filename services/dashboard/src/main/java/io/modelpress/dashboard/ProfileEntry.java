package io.modelpress.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelpress.dashboard.DashboardView.Choice;
import io.modelpress.dashboard.DashboardView.FailureView;
import io.modelpress.dashboard.DashboardView.Judgement;
import io.modelpress.dashboard.DashboardView.Latency;
import io.modelpress.dashboard.DashboardView.Links;
import io.modelpress.dashboard.DashboardView.ProfileView;
import io.modelpress.dashboard.DashboardView.Sizes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One profile of one model version as the events so far describe it. Topics are read side by side,
 * so events arrive in any order across topics: the status is decided by the times the events carry,
 * not by the order they came in.
 */
final class ProfileEntry {

    private final String profile;
    private JsonNode result;
    private Instant resultAt;
    private JsonNode benchmark;
    private FailureView failure;
    private String stage;
    private Instant progressAt;
    private boolean progressDone;

    ProfileEntry(String profile) {
        this.profile = profile;
    }

    void result(Event event) {
        if (resultAt == null || !event.time().isBefore(resultAt)) {
            result = event.data();
            resultAt = event.time();
        }
    }

    void benchmark(Event event) {
        benchmark = event.data();
    }

    void failure(FailureView failed) {
        if (failure == null || !failed.at().isBefore(failure.at())) {
            failure = failed;
        }
    }

    void progress(Event event) {
        if (progressAt == null || !event.time().isBefore(progressAt)) {
            progressAt = event.time();
            stage = event.data().path("stage").asText(null);
            progressDone = event.data().path("fraction").asDouble(0) >= 1;
        }
    }

    String status() {
        Instant failedAt = failure == null ? null : failure.at();
        Instant settled = latest(resultAt, failedAt);
        if (progressAt != null && !progressDone && (settled == null || progressAt.isAfter(settled))) {
            return "running"; // work newer than any outcome: a new attempt
        }
        if (settled == null) {
            return "running";
        }
        return settled.equals(resultAt) ? "complete" : "failed";
    }

    boolean hasResult() {
        return result != null;
    }

    Instant resultAt() {
        return resultAt;
    }

    long bytesSaved() {
        return result == null ? 0 : result.path("sizes").path("bytesSaved").asLong(0);
    }

    Long processingMillis() {
        return result != null && result.path("processingMillis").isNumber() ? result.path("processingMillis").asLong() : null;
    }

    ProfileView view() {
        String status = status();
        Instant updated = latest(latest(resultAt, failure == null ? null : failure.at()), progressAt);
        if (result == null) {
            return new ProfileView(profile, status, stage, updated, null, latency(), null, null, null, List.of(), null,
                    failure, null, null);
        }
        JsonNode choice = result.path("choice");
        return new ProfileView(profile, status, stage, updated, sizes(), latency(), judgement(), chain(result.path("plan")),
                new Choice(text(choice, "by"), bool(choice, "metBudget"), text(choice, "explanation"),
                        text(choice, "dropMeasure")),
                Candidates.of(choice.path("candidates")), links(), failure, bool(result, "replayed"), processingMillis());
    }

    private Sizes sizes() {
        JsonNode sizes = result.path("sizes");
        return new Sizes(longValue(sizes, "originalBytes"), longValue(sizes, "compressedBytes"), number(sizes, "sizeRatio"),
                longValue(sizes, "bytesSaved"), longValue(sizes, "packagedBytes"));
    }

    /** Latency comes with the benchmark event; where it was timed matters as much as the figure. */
    private Latency latency() {
        if (benchmark == null) {
            return null;
        }
        JsonNode latency = benchmark.path("latency");
        if (!latency.path("measured").asBoolean(false)) {
            return new Latency(null, null, null, "not timed" + (latency.hasNonNull("reason")
                    ? ": " + latency.path("reason").asText() : ""));
        }
        List<String> where = new ArrayList<>();
        where.add("ONNX Runtime, " + latency.path("executionProvider").asText("?") + " provider");
        JsonNode environment = benchmark.path("environment");
        if (environment.hasNonNull("cpu")) {
            where.add(environment.path("cpu").asText() + " (" + environment.path("cores").asText("?") + " cores)");
        }
        if (latency.hasNonNull("inputs")) {
            where.add(latency.path("inputs").asText());
        }
        JsonNode original = latency.path("original");
        if (original.hasNonNull("batchSize")) {
            where.add("batch " + original.path("batchSize").asText());
        }
        if (latency.hasNonNull("note")) {
            where.add(latency.path("note").asText());
        }
        return new Latency(number(original, "p50Millis"), number(latency.path("compressed"), "p50Millis"),
                number(latency, "speedup"), String.join("; ", where));
    }

    /** Accuracy on labelled data when measured, else fidelity to the original's outputs; and what judged it. */
    private Judgement judgement() {
        JsonNode accuracy = result.path("accuracy");
        String judgedBy = text(result, "judgedBy");
        if (accuracy.path("measured").asBoolean(false)) {
            // the figures sit under "figures" in the result event; a flat object (as in report.json) is read too
            JsonNode figures = accuracy.path("figures").isObject() ? accuracy.path("figures") : accuracy;
            String data = figures.hasNonNull("examples") ? figures.path("examples").asText() + " labelled examples"
                    : "labelled evaluation data";
            return new Judgement("accuracy", number(figures, "top1Before"), number(figures, "top1After"), null,
                    judgedBy != null ? judgedBy : data);
        }
        JsonNode fidelity = result.path("fidelity");
        Double mean = null;
        Double worst = null;
        for (JsonNode output : fidelity.path("outputs")) {
            mean = min(mean, number(output, "meanCosine"));
            worst = min(worst, number(output, "minCosine"));
        }
        return new Judgement("fidelity", null, mean, worst, judgedBy != null ? judgedBy : text(fidelity, "data"));
    }

    private Links links() {
        JsonNode artifact = result.path("artifact");
        String report = text(artifact, "reportUri");
        String page = null;
        if (report != null && report.endsWith(".json")) {
            String candidate = report.substring(0, report.length() - ".json".length()) + ".html";
            for (JsonNode file : artifact.path("files")) {
                if (candidate.endsWith("/" + file.asText())) {
                    page = candidate; // only when the service says it stored the page
                }
            }
        }
        return new Links(text(artifact, "uri"), report, page);
    }

    static String chain(JsonNode plan) {
        List<String> steps = new ArrayList<>();
        plan.forEach(step -> steps.add(step.path("plugin").asText("?")));
        return steps.isEmpty() ? null : String.join(" → ", steps);
    }

    private static Double min(Double current, Double value) {
        if (value == null) {
            return current;
        }
        return current == null ? value : Math.min(current, value);
    }

    static Instant latest(Instant a, Instant b) {
        if (a == null) {
            return b;
        }
        return b == null || a.isAfter(b) ? a : b;
    }

    static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value != null && value.isValueNode() && !value.isNull() ? value.asText() : null;
    }

    static Double number(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value != null && value.isNumber() ? value.asDouble() : null;
    }

    static Long longValue(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value != null && value.isNumber() ? value.asLong() : null;
    }

    static Boolean bool(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value != null && value.isBoolean() ? value.asBoolean() : null;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s: %s", profile, status());
    }
}

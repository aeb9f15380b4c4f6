package io.modelpress.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelpress.dashboard.DashboardView.Candidate;
import java.util.ArrayList;
import java.util.List;

/**
 * The planner's candidates as the result event lists them, with the Pareto set marked the way the
 * planner marks it in report.json: measured candidates that no other measured candidate matches or
 * beats on size, latency and drop together (a missing latency counts as the worst).
 */
final class Candidates {

    private Candidates() {
    }

    static List<Candidate> of(JsonNode candidates) {
        List<JsonNode> all = new ArrayList<>();
        candidates.forEach(all::add);
        List<JsonNode> measured = all.stream().filter(Candidates::measured).toList();
        List<Candidate> out = new ArrayList<>();
        for (JsonNode candidate : all) {
            boolean pareto = measured(candidate) && measured.stream().noneMatch(other -> dominates(other, candidate));
            String note = candidate.hasNonNull("reason") ? candidate.path("reason").asText() : null;
            List<String> violations = new ArrayList<>();
            candidate.path("violations").forEach(violation -> violations.add(violation.asText()));
            if (!violations.isEmpty()) {
                note = (note == null ? "" : note + "; ") + String.join("; ", violations);
            }
            out.add(new Candidate(ProfileEntry.text(candidate, "chain"), ProfileEntry.text(candidate, "outcome"),
                    ProfileEntry.longValue(candidate, "bytes"), ProfileEntry.number(candidate, "drop"),
                    ProfileEntry.number(candidate, "latencyMillis"), candidate.path("chosen").asBoolean(false), pareto, note));
        }
        return out;
    }

    private static boolean measured(JsonNode candidate) {
        return "measured".equals(candidate.path("outcome").asText()) && candidate.path("bytes").isNumber();
    }

    private static boolean dominates(JsonNode a, JsonNode b) {
        if (a == b) {
            return false;
        }
        long bytesA = a.path("bytes").asLong();
        long bytesB = b.path("bytes").asLong();
        double latencyA = a.path("latencyMillis").isNumber() ? a.path("latencyMillis").asDouble() : Double.MAX_VALUE;
        double latencyB = b.path("latencyMillis").isNumber() ? b.path("latencyMillis").asDouble() : Double.MAX_VALUE;
        double dropA = a.path("drop").isNumber() ? a.path("drop").asDouble() : 1;
        double dropB = b.path("drop").isNumber() ? b.path("drop").asDouble() : 1;
        boolean noWorse = bytesA <= bytesB && latencyA <= latencyB && dropA <= dropB;
        boolean better = bytesA < bytesB || latencyA < latencyB || dropA < dropB;
        return noWorse && better;
    }
}

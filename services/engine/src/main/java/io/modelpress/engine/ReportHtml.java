package io.modelpress.engine;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * report.html: the report for people, one self-contained page (inline styles, charts drawn as inline
 * SVG) that opens from disk. It is rendered from the report's JSON tree and reads every field
 * defensively: a report written by another version, with fields added or missing, still renders
 * what it has, and fields this page does not know are listed at the end as they are.
 */
public final class ReportHtml {

    /** The name of the page beside report.json. */
    public static final String FILE = "report.html";

    private static final Set<String> KNOWN = Set.of("reportVersion", "status", "profile", "original", "compressed",
            "plan", "steps", "gains", "fidelity", "accuracy", "benchmark", "environment", "totalMillis", "planning");

    private static final String STYLE = """
            body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1rem;color:#1b1f24;background:#fff}
            h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
            table{border-collapse:collapse;margin:.5rem 0;width:100%;display:block;overflow-x:auto}
            th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
            th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
            .ok{color:#1a7f37}.bad{color:#cf222e}.muted{color:#57606a}code{font-size:.9em}
            .charts{display:flex;flex-wrap:wrap;gap:1rem}.charts figure{margin:0;flex:1 1 420px}
            svg{width:100%;height:auto;background:#fff;border:1px solid #d0d7de}
            .legend span{margin-right:1rem}
            @media (prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}th{background:#161b22}
            th,td{border-color:#30363d}svg{background:#fff}}
            """;

    private ReportHtml() {
    }

    /** The page for one report (its JSON tree as written to report.json). */
    public static String render(JsonNode report) {
        requireNonNull(report, "report is null");
        StringBuilder html = new StringBuilder(16_384);
        String profile = text(report, "profile", "?");
        html.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">")
                .append("<title>modelpress report: ").append(esc(profile)).append("</title><style>").append(STYLE)
                .append("</style></head><body>\n");
        html.append("<h1>Compression report for profile <code>").append(esc(profile)).append("</code></h1>\n");
        summary(html, report);
        sizes(html, report);
        fidelity(html, report.path("fidelity"));
        accuracy(html, report.path("accuracy"));
        latency(html, report.path("benchmark"));
        planning(html, report.path("planning"));
        plan(html, report.path("plan"));
        steps(html, report.path("steps"));
        environment(html, report.path("environment"));
        others(html, report);
        html.append("</body></html>\n");
        return html.toString();
    }

    private static void summary(StringBuilder html, JsonNode report) {
        String status = text(report, "status", "unknown");
        html.append("<p id=\"status\">Status: <strong class=\"").append(status.equals("complete") ? "ok" : "bad")
                .append("\">").append(esc(status)).append("</strong>");
        if (report.path("totalMillis").isNumber()) {
            html.append(" · took ").append(millis(report.path("totalMillis").asDouble()));
        }
        html.append("</p>\n");
        html.append("<p>Chain: <code id=\"chain\">").append(esc(chain(report.path("plan")))).append("</code></p>\n");
    }

    private static void sizes(StringBuilder html, JsonNode report) {
        JsonNode original = report.path("original");
        JsonNode compressed = report.path("compressed");
        JsonNode gains = report.path("gains");
        html.append("<h2>Size</h2><table id=\"sizes\"><tr><th></th><th>original</th><th>compressed</th><th>gain</th></tr>");
        row(html, "bytes", bytes(original.path("bytes")), bytes(compressed.path("bytes")), ratio(gains.path("sizeRatio")));
        row(html, "parameters", count(original.path("parameters")), count(compressed.path("parameters")),
                ratio(gains.path("parameterRatio")));
        row(html, "weight bytes", bytes(original.path("weightBytes")), bytes(compressed.path("weightBytes")), "");
        if (compressed.path("packagedBytes").isNumber()) {
            row(html, "packaged", "", bytes(compressed.path("packagedBytes")), ratio(gains.path("packagedSizeRatio")));
        }
        html.append("</table>");
        if (gains.path("bytesSaved").isNumber()) {
            html.append("<p>Saved ").append(bytes(gains.path("bytesSaved"))).append(".</p>");
        }
        html.append("<p class=\"muted\">sha256 original <code>").append(esc(original.path("digest").asText("")))
                .append("</code>, compressed <code>").append(esc(compressed.path("digest").asText(""))).append("</code></p>\n");
    }

    private static void fidelity(StringBuilder html, JsonNode fidelity) {
        if (fidelity.isMissingNode() || fidelity.isNull()) {
            return;
        }
        html.append("<h2>Fidelity to the original's outputs</h2>");
        if (fidelity.hasNonNull("unavailable")) {
            html.append("<p class=\"bad\">Not measured: ").append(esc(fidelity.path("unavailable").asText())).append("</p>");
        }
        if (fidelity.hasNonNull("data")) {
            html.append("<p>Judged on ").append(esc(fidelity.path("data").asText())).append(".</p>");
        }
        JsonNode outputs = fidelity.path("outputs");
        if (outputs.isArray() && !outputs.isEmpty()) {
            html.append("<table id=\"fidelity\"><tr><th>output</th><th>mean cosine</th><th>worst cosine</th>")
                    .append("<th>top-1 agreement</th><th>max abs error</th><th>relative error</th><th>samples</th></tr>");
            for (JsonNode output : outputs) {
                html.append("<tr><td>").append(esc(output.path("output").asText("?"))).append("</td>")
                        .append(num(output.path("meanCosine"), "%.5f")).append(num(output.path("minCosine"), "%.5f"))
                        .append(num(output.path("top1Agreement"), "%.4f")).append(num(output.path("maxAbsError"), "%.4g"))
                        .append(num(output.path("relativeError"), "%.4g")).append(num(output.path("samples"), "%.0f"))
                        .append("</tr>");
            }
            html.append("</table>\n");
        }
    }

    private static void accuracy(StringBuilder html, JsonNode accuracy) {
        if (!accuracy.isObject()) {
            return;
        }
        html.append("<h2>Accuracy on labelled data</h2><table id=\"accuracy\"><tr><th></th><th>original</th>")
                .append("<th>compressed</th></tr>");
        row(html, "top-1", percent(accuracy.path("top1Before")), percent(accuracy.path("top1After")), null);
        row(html, "top-5", percent(accuracy.path("top5Before")), percent(accuracy.path("top5After")), null);
        html.append("</table><p>Output <code>").append(esc(accuracy.path("output").asText("?"))).append("</code>, ")
                .append(esc(accuracy.path("examples").asText("?"))).append(" examples; top-1 drop ")
                .append(points(accuracy.path("top1Drop"))).append(".</p>\n");
    }

    private static void latency(StringBuilder html, JsonNode benchmark) {
        if (!benchmark.isObject()) {
            return;
        }
        html.append("<h2>Latency</h2>");
        if (benchmark.hasNonNull("unavailable")) {
            html.append("<p class=\"bad\">Not timed: ").append(esc(benchmark.path("unavailable").asText())).append("</p>\n");
            return;
        }
        JsonNode original = benchmark.path("original");
        JsonNode compressed = benchmark.path("compressed");
        html.append("<table id=\"latency\"><tr><th></th><th>original</th><th>compressed</th></tr>");
        for (String[] field : new String[][] {{"p10Millis", "p10"}, {"p50Millis", "median"}, {"p90Millis", "p90"},
                {"p99Millis", "p99"}, {"loadMillis", "load"}}) {
            row(html, field[1], millis(original.path(field[0])), millis(compressed.path(field[0])), null);
        }
        row(html, "throughput", perSecond(original.path("throughputPerSecond")),
                perSecond(compressed.path("throughputPerSecond")), null);
        row(html, "rounds", esc(original.path("rounds").asText("?") + stableMark(original)),
                esc(compressed.path("rounds").asText("?") + stableMark(compressed)), null);
        row(html, "session peak memory", bytes(original.path("sessionPeakBytes")),
                bytes(compressed.path("sessionPeakBytes")), null);
        html.append("</table><p>Speed-up ").append(ratio(benchmark.path("speedup"))).append(", timed with ONNX Runtime's ")
                .append(esc(benchmark.path("executionProvider").asText("?"))).append(" provider on ")
                .append(esc(benchmark.path("inputs").asText("?"))).append(", batch ")
                .append(esc(original.path("batchSize").asText("?"))).append(", both models in the same rounds, warm-up"
                + " discarded; session memory, where measured, alone in a fresh process.</p>");
        if (benchmark.hasNonNull("note")) {
            html.append("<p class=\"muted\">").append(esc(benchmark.path("note").asText())).append("</p>");
        }
        html.append('\n');
    }

    private static String stableMark(JsonNode timing) {
        return timing.path("stable").asBoolean(true) ? "" : " (median still moving)";
    }

    private static void planning(StringBuilder html, JsonNode planning) {
        if (!planning.isObject()) {
            return;
        }
        html.append("<h2>What the planner tried</h2><p id=\"explanation\">")
                .append(esc(planning.path("explanation").asText(""))).append("</p>");
        html.append("<p>Budget met: <strong class=\"").append(planning.path("metBudget").asBoolean() ? "ok\">yes" : "bad\">no")
                .append("</strong>; drop means ").append(esc(planning.path("dropMeasure").asText("?"))).append(".</p>");
        List<JsonNode> trials = list(planning.path("trials"));
        Set<Integer> pareto = new java.util.HashSet<>();
        list(planning.path("pareto")).forEach(trial -> pareto.add(trial.path("index").asInt(-1)));
        int chosen = planning.path("chosen").path("index").asInt(-1);
        html.append("<div class=\"charts\">");
        chart(html, "size-chart", "size against drop", trials, pareto, chosen, "bytes");
        chart(html, "latency-chart", "latency against drop", trials, pareto, chosen, "latencyMillis");
        html.append("</div><p class=\"legend\"><span style=\"color:#0969da\">● Pareto set</span>")
                .append("<span style=\"color:#8c959f\">● other measured</span><span>◎ chosen</span></p>");
        html.append("<table id=\"trials\"><tr><th>#</th><th>chain</th><th>outcome</th><th>bytes</th><th>drop</th>")
                .append("<th>p50</th><th>why</th></tr>");
        for (JsonNode trial : trials) {
            int index = trial.path("index").asInt(-1);
            String mark = index == chosen ? " (chosen)" : pareto.contains(index) ? " (Pareto)" : "";
            html.append("<tr><td>").append(index).append(esc(mark)).append("</td><td><code>")
                    .append(esc(trialChain(trial.path("chain")))).append("</code></td><td>")
                    .append(esc(trial.path("outcome").asText("?"))).append("</td>")
                    .append(bytesCell(measured(trial) ? trial.path("bytes") : NullNode.getInstance()))
                    .append("<td class=\"n\">").append(points(trial.path("drop"))).append("</td><td class=\"n\">")
                    .append(millis(trial.path("latencyMillis"))).append("</td><td>").append(esc(why(trial)))
                    .append("</td></tr>");
        }
        html.append("</table>\n");
    }

    /** A trial that was not run (or failed) has no size of its own, whatever number the report holds. */
    private static boolean measured(JsonNode trial) {
        return !trial.has("outcome") || trial.path("outcome").asText().equals("measured");
    }

    /** Why a trial stands where it does: its rationale, what it missed, why it failed; whatever the report holds. */
    private static String why(JsonNode trial) {
        List<String> parts = new ArrayList<>();
        if (trial.hasNonNull("rationale")) {
            parts.add(trial.path("rationale").asText());
        }
        list(trial.path("violations")).forEach(violation -> parts.add(violation.asText()));
        for (String field : new String[] {"error", "reason", "lostBecause", "why"}) {
            if (trial.hasNonNull(field) && trial.path(field).isValueNode()) {
                parts.add(trial.path(field).asText());
            }
        }
        return String.join("; ", parts);
    }

    /** A scatter of the measured trials: x the size or latency, y the drop in points. */
    private static void chart(StringBuilder html, String id, String title, List<JsonNode> trials, Set<Integer> pareto,
            int chosen, String xField) {
        List<JsonNode> points = trials.stream().filter(ReportHtml::measured)
                .filter(trial -> trial.path(xField).isNumber() && trial.path("drop").isNumber()).toList();
        html.append("<figure><figcaption>").append(esc(title)).append("</figcaption>");
        if (points.isEmpty()) {
            html.append("<p class=\"muted\" id=\"").append(id).append("\">no measured candidate has these figures</p></figure>");
            return;
        }
        double width = 480;
        double height = 300;
        double left = 60;
        double bottom = 40;
        double maxX = points.stream().mapToDouble(trial -> trial.path(xField).asDouble()).max().orElse(1) * 1.1;
        double maxY = Math.max(points.stream().mapToDouble(trial -> trial.path("drop").asDouble() * 100).max().orElse(0), 0.1)
                * 1.15;
        html.append(String.format(Locale.ROOT, "<svg id=\"%s\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s\">",
                id, width, height, esc(title)));
        html.append(String.format(Locale.ROOT, "<line x1=\"%.0f\" y1=\"10\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#57606a\"/>"
                + "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#57606a\"/>", left, left, height - bottom,
                left, height - bottom, width - 10, height - bottom));
        String xUnit = xField.equals("bytes") ? "size (bytes)" : "p50 latency (ms)";
        html.append(String.format(Locale.ROOT, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"12\" text-anchor=\"middle\">%s 0 … %s</text>",
                (left + width) / 2, height - 10, xUnit, esc(xField.equals("bytes") ? human((long) maxX) : fmt(maxX, "%.3g"))));
        html.append(String.format(Locale.ROOT, "<text x=\"12\" y=\"%.0f\" font-size=\"12\" transform=\"rotate(-90 12 %.0f)\" "
                + "text-anchor=\"middle\">drop (points) 0 … %s</text>", (height - bottom) / 2, (height - bottom) / 2,
                fmt(maxY, "%.3g")));
        for (JsonNode trial : points) {
            int index = trial.path("index").asInt(-1);
            double x = left + (width - left - 10) * trial.path(xField).asDouble() / maxX;
            double y = (height - bottom) - (height - bottom - 10) * trial.path("drop").asDouble() * 100 / maxY;
            String colour = pareto.contains(index) ? "#0969da" : "#8c959f";
            html.append(String.format(Locale.ROOT, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\">"
                    + "<title>%s</title></circle>", pareto.contains(index) ? "pareto" : "trial", x, y, colour,
                    esc("#" + index + " " + trialChain(trial.path("chain")))));
            if (index == chosen) {
                html.append(String.format(Locale.ROOT, "<circle class=\"chosen\" cx=\"%.1f\" cy=\"%.1f\" r=\"10\" "
                        + "fill=\"none\" stroke=\"#1b1f24\" stroke-width=\"2\"/>", x, y));
            }
        }
        html.append("</svg></figure>");
    }

    private static void plan(StringBuilder html, JsonNode plan) {
        if (!plan.isArray() || plan.isEmpty()) {
            return;
        }
        html.append("<h2>Plan</h2><table id=\"plan\"><tr><th>plugin</th><th>version</th><th>options</th></tr>");
        for (JsonNode entry : plan) {
            html.append("<tr><td>").append(esc(entry.path("plugin").asText("?"))).append("</td><td>")
                    .append(esc(entry.path("version").asText(""))).append("</td><td><code>")
                    .append(esc(options(entry.path("options")))).append("</code></td></tr>");
        }
        html.append("</table>\n");
    }

    private static void steps(StringBuilder html, JsonNode steps) {
        if (!steps.isArray() || steps.isEmpty()) {
            return;
        }
        html.append("<h2>Steps</h2><table id=\"steps\"><tr><th>#</th><th>plugin</th><th>status</th><th>bytes</th>")
                .append("<th>time</th><th>changes</th></tr>");
        for (JsonNode step : steps) {
            html.append("<tr><td>").append(esc(step.path("index").asText(""))).append("</td><td>")
                    .append(esc(step.path("plugin").asText("?"))).append("</td><td>")
                    .append(esc(step.path("status").asText("?")));
            if (step.hasNonNull("error")) {
                html.append(": ").append(esc(step.path("error").asText()));
            }
            html.append("</td><td>").append(bytes(step.path("bytesBefore"))).append(" → ").append(bytes(step.path("bytesAfter")))
                    .append("</td><td class=\"n\">").append(millis(step.path("millis"))).append("</td><td>")
                    .append(list(step.path("changes")).size()).append(" changed, ").append(list(step.path("skipped")).size())
                    .append(" left</td></tr>");
        }
        html.append("</table>\n");
    }

    private static void environment(StringBuilder html, JsonNode environment) {
        if (!environment.isObject()) {
            return;
        }
        html.append("<h2>Where it ran</h2><p>").append(esc(environment.path("cpu").asText("?"))).append(", ")
                .append(esc(environment.path("cores").asText("?"))).append(" cores, ")
                .append(esc(environment.path("os").asText("?"))).append(", Java ")
                .append(esc(environment.path("java").asText("?"))).append(", ONNX Runtime ")
                .append(esc(environment.path("onnxRuntime").asText("?"))).append("</p>\n");
    }

    /** Fields this page has no section for, shown as they are rather than hidden. */
    private static void others(StringBuilder html, JsonNode report) {
        List<Map.Entry<String, JsonNode>> extra = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> fields = report.fields(); fields.hasNext();) {
            Map.Entry<String, JsonNode> field = fields.next();
            if (!KNOWN.contains(field.getKey()) && !field.getValue().isNull()) {
                extra.add(field);
            }
        }
        if (extra.isEmpty()) {
            return;
        }
        html.append("<h2>More</h2><table id=\"more\">");
        for (Map.Entry<String, JsonNode> field : extra) {
            html.append("<tr><th>").append(esc(field.getKey())).append("</th><td><pre>")
                    .append(esc(field.getValue().toPrettyString())).append("</pre></td></tr>");
        }
        html.append("</table>\n");
    }

    private static void row(StringBuilder html, String name, String before, String after, String gain) {
        html.append("<tr><th>").append(esc(name)).append("</th><td class=\"n\">").append(before).append("</td><td class=\"n\">")
                .append(after).append("</td>");
        if (gain != null) {
            html.append("<td class=\"n\">").append(gain).append("</td>");
        }
        html.append("</tr>");
    }

    private static String chain(JsonNode plan) {
        List<String> steps = new ArrayList<>();
        list(plan).forEach(entry -> steps.add(entry.path("plugin").asText("?")));
        return steps.isEmpty() ? "(none)" : String.join(" → ", steps);
    }

    private static String trialChain(JsonNode chain) {
        if (chain.isTextual()) {
            return chain.asText();
        }
        List<String> steps = new ArrayList<>();
        for (JsonNode step : list(chain)) {
            String options = options(step.path("options"));
            steps.add(step.path("pluginId").asText(step.path("plugin").asText("?")) + (options.isEmpty() ? "" : ":" + options));
        }
        return String.join(" → ", steps);
    }

    private static String options(JsonNode options) {
        List<String> pairs = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> fields = options.fields(); fields.hasNext();) {
            Map.Entry<String, JsonNode> field = fields.next();
            pairs.add(field.getKey() + "=" + field.getValue().asText());
        }
        return String.join(",", pairs);
    }

    private static List<JsonNode> list(JsonNode array) {
        List<JsonNode> items = new ArrayList<>();
        if (array.isArray()) {
            array.forEach(items::add);
        }
        return items;
    }

    private static String text(JsonNode node, String field, String absent) {
        return node.hasNonNull(field) ? node.path(field).asText() : absent;
    }

    private static String num(JsonNode value, String format) {
        return "<td class=\"n\">" + (value.isNumber() ? fmt(value.asDouble(), format) : "–") + "</td>";
    }

    private static String bytesCell(JsonNode value) {
        return "<td class=\"n\">" + bytes(value) + "</td>";
    }

    private static String bytes(JsonNode value) {
        return value.isNumber() ? human(value.asLong()) : "–";
    }

    /** Bytes for people, with the exact count kept in a tooltip. */
    static String human(long bytes) {
        String[] units = {"B", "KB", "MB", "GB"};
        double value = bytes;
        int unit = 0;
        while (Math.abs(value) >= 1000 && unit < units.length - 1) {
            value /= 1000;
            unit++;
        }
        return unit == 0 ? bytes + " B" : fmt(value, "%.1f") + " " + units[unit];
    }

    private static String count(JsonNode value) {
        return value.isNumber() ? String.format(Locale.ROOT, "%,d", value.asLong()) : "–";
    }

    private static String ratio(JsonNode value) {
        return value.isNumber() ? fmt(value.asDouble(), "%.2f") + "×" : "";
    }

    private static String percent(JsonNode value) {
        return value.isNumber() ? fmt(100 * value.asDouble(), "%.2f") + " %" : "–";
    }

    private static String points(JsonNode value) {
        return value.isNumber() ? fmt(100 * value.asDouble(), "%.2f") + " pt" : "–";
    }

    private static String millis(JsonNode value) {
        return value.isNumber() ? millis(value.asDouble()) : "–";
    }

    private static String millis(double value) {
        return value >= 1000 ? fmt(value / 1000, "%.1f") + " s" : fmt(value, "%.3g") + " ms";
    }

    private static String perSecond(JsonNode value) {
        return value.isNumber() ? fmt(value.asDouble(), "%.1f") + "/s" : "–";
    }

    private static String fmt(double value, String format) {
        return String.format(Locale.ROOT, format, value);
    }

    static String esc(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}

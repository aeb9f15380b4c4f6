package io.modelpress.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

/** The compressor's events for people: one line per progress step, a few lines per result, a table at the end. */
final class EventPrinter {

    private final PrintWriter out;
    /** The S3 server's folder of buckets when it keeps objects as plain files (the demo's S3Proxy). */
    private final Optional<Path> s3Folder;

    EventPrinter(PrintWriter out) {
        this(out, Optional.empty());
    }

    EventPrinter(PrintWriter out, Optional<Path> s3Folder) {
        this.out = out;
        this.s3Folder = s3Folder;
    }

    /** Where an {@code s3://bucket/key} object lies on this disk, when it is there as a file. */
    Optional<Path> onDisk(String uri) {
        if (s3Folder.isEmpty() || !uri.startsWith("s3://")) {
            return Optional.empty();
        }
        Path file = s3Folder.get().resolve(uri.substring("s3://".length())).normalize();
        return file.startsWith(s3Folder.get()) && Files.isRegularFile(file) ? Optional.of(file) : Optional.empty();
    }

    void print(EventFeed.OutputEvent event) {
        JsonNode data = event.data();
        if (!data.isObject()) {
            out.printf("%-9s %s: not JSON: %s%n", shortTopic(event.topic()), event.key(), data.asText());
            return;
        }
        switch (event.topic()) {
            case EventFeed.PROGRESS -> progress(data);
            case EventFeed.RESULTS -> result(data);
            case EventFeed.BENCHMARKS -> benchmark(data);
            case EventFeed.FAILURES -> failure(data, event.key());
            default -> out.printf("%s %s%n", event.topic(), data);
        }
        out.flush();
    }

    private void progress(JsonNode data) {
        out.printf("progress  %s %3d%%  %s%s%n", model(data), data.path("percent").asInt(), data.path("stage").asText(),
                data.hasNonNull("message") ? "  " + data.get("message").asText() : "");
    }

    private void result(JsonNode data) {
        JsonNode sizes = data.path("sizes");
        JsonNode choice = data.path("choice");
        out.printf("result    %s %s: %s%s, chain %s%s%n", model(data), data.path("profile").asText(),
                data.path("status").asText(), data.path("replayed").asBoolean() ? " (answered from storage)" : "",
                chain(data.path("plan")), choice.has("by") ? " (chosen by " + choice.path("by").asText() + ")" : "");
        if (choice.hasNonNull("explanation")) {
            out.printf("          why: %s%n", choice.get("explanation").asText());
        }
        JsonNode judging = data.path("judging");
        if (judging.has("judgedOn")) {
            out.printf("          judged on %s: %s%n", judging.path("judgedOn").asText(), judging.path("split").asText());
        }
        if (data.hasNonNull("hint")) {
            out.printf("          hint: %s%n", data.get("hint").asText());
        }
        out.printf("          size %s -> %s (%.2fx smaller), parameters %s -> %s%n",
                Format.bytes(sizes.path("originalBytes").asLong()), Format.bytes(sizes.path("compressedBytes").asLong()),
                sizes.path("sizeRatio").asDouble(), Format.count(sizes.path("originalParameters").asLong()),
                Format.count(sizes.path("compressedParameters").asLong()));
        JsonNode accuracy = data.path("accuracy");
        if (accuracy.path("measured").asBoolean()) {
            JsonNode figures = accuracy.path("figures");
            out.printf(Locale.ROOT, "          accuracy on %d labelled examples: top-1 %.2f%% -> %.2f%%, top-5 %.2f%% -> %.2f%%%n",
                    figures.path("examples").asLong(), 100 * figures.path("top1Before").asDouble(),
                    100 * figures.path("top1After").asDouble(), 100 * figures.path("top5Before").asDouble(),
                    100 * figures.path("top5After").asDouble());
        } else {
            out.printf("          accuracy not measured: %s%n", accuracy.path("reason").asText());
        }
        JsonNode fidelity = data.path("fidelity");
        for (JsonNode output : fidelity.path("outputs")) {
            out.printf(Locale.ROOT, "          fidelity %s: cosine %.5f (worst %.5f)%s, on %s%n", output.path("output").asText(),
                    output.path("meanCosine").asDouble(), output.path("minCosine").asDouble(),
                    (output.hasNonNull("top1Agreement") ? String.format(Locale.ROOT, ", top-1 agreement %.1f%%",
                            100 * output.get("top1Agreement").asDouble()) : "")
                            + (output.hasNonNull("sequenceAgreement") ? String.format(Locale.ROOT,
                                    ", decoded sequences alike %.1f%%", 100 * output.get("sequenceAgreement").asDouble())
                                    : ""), fidelity.path("data").asText());
        }
        if (!fidelity.path("runsInOnnxRuntime").asBoolean(true)) {
            out.printf("          does NOT run in ONNX Runtime: %s%n", fidelity.path("unavailable").asText());
        }
        String uri = data.path("artifact").path("uri").asText();
        out.printf("          stored at %s%n", uri);
        onDisk(uri).ifPresent(file -> out.printf("          on disk   %s%n", file));
        onDisk(data.path("artifact").path("reportUri").asText()).ifPresent(file -> out.printf("          report    %s%n", file));
    }

    private void benchmark(JsonNode data) {
        JsonNode latency = data.path("latency");
        if (!latency.path("measured").asBoolean()) {
            out.printf("benchmark %s %s: not timed: %s%n", model(data), data.path("profile").asText(),
                    latency.path("unavailable").asText("no reason given"));
            return;
        }
        JsonNode original = latency.path("original");
        JsonNode compressed = latency.path("compressed");
        out.printf(Locale.ROOT, "benchmark %s %s: latency p50 %.3f ms -> %.3f ms (%.2fx), p99 %.3f -> %.3f ms,"
                + " %.0f -> %.0f inferences/s at batch %d%n", model(data), data.path("profile").asText(),
                original.path("p50Millis").asDouble(), compressed.path("p50Millis").asDouble(),
                latency.path("speedup").asDouble(), original.path("p99Millis").asDouble(),
                compressed.path("p99Millis").asDouble(), original.path("throughputPerSecond").asDouble(),
                compressed.path("throughputPerSecond").asDouble(), original.path("batchSize").asInt());
        if (latency.hasNonNull("note")) {
            out.printf("          %s%n", latency.get("note").asText());
        }
    }

    private void failure(JsonNode data, String key) {
        out.printf("FAILED    %s%s at %s: %s%s%n", data.hasNonNull("modelId") ? model(data) : String.valueOf(key),
                data.hasNonNull("profile") ? " " + data.get("profile").asText() : "", data.path("stage").asText(),
                data.path("reason").asText(), data.path("retryable").asBoolean() ? " (a retry may help)" : "");
    }

    /** One row per profile: what it became, what it kept, how fast it runs. */
    void summary(ModelOutcome outcome) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"profile", "status", "judged on", "chain", "size", "top-1 accuracy", "p50 latency"});
        for (ModelOutcome.ProfileOutcome profile : outcome.profiles()) {
            rows.add(row(profile));
        }
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        out.printf("%nresults for %s version %s:%n", outcome.modelId(), outcome.version());
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder(" ");
            for (int i = 0; i < row.length; i++) {
                line.append(' ').append(String.format("%-" + widths[i] + "s", row[i])).append(' ');
            }
            out.println(line.toString().stripTrailing());
        }
        for (ModelOutcome.ProfileOutcome profile : outcome.profiles()) {
            profile.result().flatMap(result -> onDisk(result.path("artifact").path("uri").asText()))
                    .ifPresent(file -> out.printf("  on disk (%s): %s%n", profile.profile(), file));
        }
        outcome.modelFailures().forEach(failure -> out.printf("  model failed at %s: %s%n",
                failure.path("stage").asText(), failure.path("reason").asText()));
        for (ModelOutcome.ProfileOutcome profile : outcome.profiles()) {
            if (profile.status().filter(status -> !status.equals("complete")).isPresent()) {
                JsonNode result = profile.result().orElseThrow();
                out.printf("  %s (%s): %s%n", profile.status().get(), profile.profile(), result.hasNonNull("hint")
                        ? result.get("hint").asText() : "only generated inputs judged it: give calibration or evaluation data");
            }
        }
        out.printf("  %s: %s%n", outcome.succeeded() ? "answered" : "NOT answered", outcome.tally());
        out.flush();
    }

    private static String[] row(ModelOutcome.ProfileOutcome profile) {
        if (profile.failure().isPresent()) {
            JsonNode failure = profile.failure().get();
            return new String[] {profile.profile(), "failed", "-", "-", "-", "-", failure.path("stage").asText() + ": "
                    + abbreviate(failure.path("reason").asText(), 60)};
        }
        if (profile.result().isEmpty()) {
            return new String[] {profile.profile(), "no answer", "-", "-", "-", "-", "-"};
        }
        JsonNode result = profile.result().get();
        JsonNode sizes = result.path("sizes");
        String size = Format.bytes(sizes.path("originalBytes").asLong()) + " -> "
                + Format.bytes(sizes.path("compressedBytes").asLong())
                + String.format(Locale.ROOT, " (%.2fx)", sizes.path("sizeRatio").asDouble());
        JsonNode figures = result.path("accuracy").path("figures");
        String accuracy = result.path("accuracy").path("measured").asBoolean()
                ? String.format(Locale.ROOT, "%.2f%% -> %.2f%%", 100 * figures.path("top1Before").asDouble(),
                        100 * figures.path("top1After").asDouble())
                : "not measured";
        JsonNode latency = profile.benchmark().map(benchmark -> benchmark.path("latency")).orElse(null);
        String timing = latency != null && latency.path("measured").asBoolean()
                ? String.format(Locale.ROOT, "%.3f -> %.3f ms%s", latency.path("original").path("p50Millis").asDouble(),
                        latency.path("compressed").path("p50Millis").asDouble(),
                        latency.hasNonNull("note") ? " (this host's CPU)" : "")
                : "not timed";
        return new String[] {profile.profile(), result.path("status").asText(),
                result.path("judging").path("judgedOn").asText("-"), chain(result.path("plan")), size, accuracy, timing};
    }

    private static String chain(JsonNode plan) {
        String steps = StreamSupport.stream(plan.spliterator(), false).map(step -> step.path("plugin").asText())
                .collect(Collectors.joining(" > "));
        return steps.isEmpty() ? "(none)" : steps;
    }

    private static String model(JsonNode data) {
        return data.path("modelId").asText() + " v" + data.path("version").asText();
    }

    private static String shortTopic(String topic) {
        return topic.replace("modelpress.", "");
    }

    private static String abbreviate(String text, int length) {
        return text.length() <= length ? text : text.substring(0, length - 3) + "...";
    }
}

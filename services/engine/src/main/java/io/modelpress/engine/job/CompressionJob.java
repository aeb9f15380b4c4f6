package io.modelpress.engine.job;

import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.CompressionReport;
import io.modelpress.engine.CompressionRequest;
import io.modelpress.engine.EngineException;
import io.modelpress.engine.ProgressListener;
import io.modelpress.engine.ReportHtml;
import io.modelpress.engine.Reports;
import io.modelpress.engine.plan.PlanRequest;
import io.modelpress.engine.plan.Planner;
import io.modelpress.inference.BenchmarkSettings;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.HardwareProfile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * One request's work on one profile, the same whichever adapter drives it: its identity, the
 * lookup of a result already computed, the run (a named chain or the planner's search, timed
 * alike), and storing the result under content-addressed keys beside the model. The service drives
 * it from a Kafka record with an S3 bucket as storage; the command line from its arguments with a
 * local folder. Neither rewrites what it produced: report.json is written once, by the engine.
 */
public final class CompressionJob {

    /** Where, under the model's folder, results and their index live. */
    public static final String RESULTS = "modelpress/";
    public static final String INDEX = RESULTS + "index/";

    private final CompressionEngine engine;
    private final ObjectStorage storage;
    private final Optional<BenchmarkSettings> timing;

    /**
     * @param engine the job's own engine (cancelling it cancels this job only)
     * @param storage where results are looked up and stored
     * @param timing how original and compressed are timed side by side; empty to skip
     */
    public CompressionJob(CompressionEngine engine, ObjectStorage storage, Optional<BenchmarkSettings> timing) {
        this.engine = Objects.requireNonNull(engine, "engine is null");
        this.storage = Objects.requireNonNull(storage, "storage is null");
        this.timing = Objects.requireNonNull(timing, "timing is null");
    }

    /**
     * The model as the job sees it.
     *
     * @param modelFile the model file, its external data beside it
     * @param digest the model's digest (with its external data), as {@code OnnxModel.sourceDigest}
     * @param folder the key prefix of the model's folder in storage: empty, or ending in '/'
     * @param calibrationSha256 the sha256 of the calibration file's bytes, when one is given
     * @param evaluationSha256 the sha256 of the evaluation file's bytes, when one is given
     */
    public record Input(Path modelFile, String digest, String folder, Optional<String> calibrationSha256,
            Optional<String> evaluationSha256) {
        public Input {
            Objects.requireNonNull(modelFile, "modelFile is null");
            Objects.requireNonNull(digest, "digest is null");
            Objects.requireNonNull(folder, "folder is null");
            Objects.requireNonNull(calibrationSha256, "calibrationSha256 is null");
            Objects.requireNonNull(evaluationSha256, "evaluationSha256 is null");
            if (!folder.isEmpty() && !folder.endsWith("/")) {
                throw new IllegalArgumentException("folder '" + folder + "' must be empty or end in '/'");
            }
        }
    }

    /**
     * A request identified: what it is and where its result is indexed.
     *
     * @param profile the profile as applied (the request's budget overrides included)
     * @param plan the named chain with every option; empty when the planner chooses
     * @param planDigest the named chain's plan digest; empty until the planner has chosen
     * @param digest the request digest
     * @param indexKey where the index entry of its result is (or will be) stored
     */
    public record Request(HardwareProfile profile, PlanChoice choice, Optional<List<CompressionReport.PlanEntry>> plan,
            Optional<String> planDigest, String digest, String indexKey) {
    }

    /**
     * A result stored.
     *
     * @param folder the key prefix of its content-addressed folder
     * @param files the names stored there, in order
     * @param reportName the name of this request's report among them
     * @param uploadedBytes the bytes written now (nothing when an earlier run stored them)
     */
    public record Stored(String folder, List<String> files, String reportName, long uploadedBytes) {
    }

    /**
     * Checks a named chain before the model is read (plugins exist, serve the profile, take the
     * options) and computes the request's identity.
     *
     * @throws EngineException naming the step and what is valid, when a named chain cannot run
     */
    public Request identify(Input input, HardwareProfile profile, PlanChoice choice) {
        Objects.requireNonNull(input, "input is null");
        Objects.requireNonNull(profile, "profile is null");
        Objects.requireNonNull(choice, "choice is null");
        Optional<List<CompressionReport.PlanEntry>> plan = choice.planned() ? Optional.empty()
                : Optional.of(engine.plan(choice.chain(), profile).stream()
                        .map(step -> new CompressionReport.PlanEntry(step.plugin().id(),
                                step.plugin().plugin().version(), step.options().asText()))
                        .toList());
        String digest = RequestIdentity.requestDigest(profile, choice, plan.orElse(List.of()),
                engine.plugins().all().stream().map(plugin -> plugin.id() + "@" + plugin.plugin().version()).toList(),
                input.calibrationSha256(), input.evaluationSha256());
        String index = input.folder() + INDEX + profile.id() + "/" + input.digest() + "/" + digest + ".json";
        return new Request(profile, choice, plan, plan.map(steps -> RequestIdentity.planDigest(profile, steps)), digest,
                index);
    }

    /** The index entry of the same request computed before, if any. */
    public Optional<String> lookup(Request request) {
        return storage.readText(request.indexKey());
    }

    /**
     * Runs the chosen chain, or the planner's search, and writes model.onnx (and its data) and
     * report.json to {@code out}; the planner's choice is timed as a named chain is, before the
     * report is written.
     *
     * @throws EngineException when the chain or the search cannot run
     */
    public CompressionReport compute(Request request, Path model, Path out, Optional<CalibrationData> calibration,
            Optional<CalibrationData> evaluation, ProgressListener listener) {
        createFolder(out);
        PlanChoice choice = request.choice();
        if (!choice.planned()) {
            return engine.compress(new CompressionRequest(model, request.profile(), choice.chain(), out, calibration,
                    evaluation, timing), listener);
        }
        return new Planner(engine).compress(new PlanRequest(model, request.profile(), choice.budget().orElseThrow(), out,
                calibration, evaluation, timing), listener);
    }

    /** The plan digest of what ran: the chosen chain's when the planner chose. */
    public static String planDigest(Request request, CompressionReport report) {
        return RequestIdentity.planDigest(request.profile(), report.plan());
    }

    /**
     * Stores the files of {@code out} in the result's content-addressed folder beside the model; the
     * report under the request's name, since other requests can produce the same model.
     *
     * @param checkpoint called before each file, to stop a job that was cancelled
     */
    public Stored store(Input input, Request request, CompressionReport report, Path out, Runnable checkpoint) {
        String folder = resultFolder(input, request.profile(), report.compressed().digest());
        List<String> names = new ArrayList<>();
        long uploaded = 0;
        for (Path file : files(out)) {
            checkpoint.run();
            String name = storedName(file.getFileName().toString(), request.digest());
            if (storage.putIfAbsent(file, folder + name, contentType(name))) {
                uploaded += size(file);
            }
            names.add(name);
        }
        return new Stored(folder, names, storedName(Reports.FILE, request.digest()), uploaded);
    }

    /**
     * Writes the index entry, last: an entry means every file it points at is stored. Written once:
     * a run that finished first (elsewhere, on the same request) already wrote it.
     */
    public void index(Request request, String entry) {
        if (!storage.exists(request.indexKey())) {
            storage.writeText(request.indexKey(), entry, "application/json");
        }
    }

    /** The content-addressed folder of a result: the model's folder, the profile, the compressed model's digest. */
    public static String resultFolder(Input input, HardwareProfile profile, String compressedDigest) {
        return input.folder() + RESULTS + profile.id() + "/" + compressedDigest + "/";
    }

    /**
     * The model's files keep their names in its content-addressed folder; the report is the
     * request's own: other requests (another budget, other evaluation data) can produce the same
     * model with a report of their own, and none may overwrite another.
     */
    public static String storedName(String name, String requestDigest) {
        if (name.equals(ReportHtml.FILE)) {
            return "reports/" + requestDigest + ".html"; // the page beside its report.json
        }
        return name.equals(Reports.FILE) ? "reports/" + requestDigest + ".json" : name;
    }

    private static String contentType(String name) {
        return name.endsWith(".json") ? "application/json"
                : name.endsWith(".html") ? "text/html; charset=utf-8" : "application/octet-stream";
    }

    private static List<Path> files(Path folder) {
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new EngineException("cannot list the output folder " + folder + ": " + e.getMessage(), e);
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    private static void createFolder(Path folder) {
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new EngineException("cannot create the output folder " + folder + ": " + e.getMessage(), e);
        }
    }
}

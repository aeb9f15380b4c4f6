package io.modelpress.compressor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.CompressionReport;
import io.modelpress.engine.EngineException;
import io.modelpress.engine.ProgressListener;
import io.modelpress.engine.Reports;
import io.modelpress.engine.data.NpzData;
import io.modelpress.inference.BenchmarkSettings;
import io.modelpress.model.ModelException;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.HardwareProfile;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * The work on one registered model: read the event, fetch the artifact folder, verify and load it,
 * then for each profile plan, look the result up in storage (a redelivered event is answered from
 * there), compress, store beside the original and publish. Every problem ends in one failure event
 * for the model, or for the one profile it concerns while the other profiles go on.
 */
@ApplicationScoped
public class Compressor {

    private static final Logger LOG = Logger.getLogger(Compressor.class);
    private static final Duration PUBLISH_TIMEOUT = Duration.ofSeconds(60);
    private static final double DOWNLOAD_SHARE = 0.1;

    private final ObjectStore store;
    private final EventPublisher events;
    private final EngineSetup setup;
    private final ChainChooser chooser;
    private final CompressorConfig config;
    private final CompressorMetrics metrics;

    @Inject
    public Compressor(ObjectStore store, EventPublisher events, EngineSetup setup, ChainChooser chooser,
            CompressorConfig config, CompressorMetrics metrics) {
        this.store = store;
        this.events = events;
        this.setup = setup;
        this.chooser = chooser;
        this.config = config;
        this.metrics = metrics;
    }

    /**
     * Does everything for one record and returns once every output event is published.
     *
     * @throws JobControl.Abandoned when stopped for shutdown (nothing more was published)
     * @throws PublishFailure when an output event could not be published
     */
    void process(IncomingRecord record, JobControl control) {
        metrics.received();
        CloudEventReader.Read read = CloudEventReader.read(record);
        if (read.failure().isPresent()) {
            read.modelId().ifPresent(id -> MDC.put("modelId", id));
            JobFailure failure = read.failure().get();
            LOG.warnf("refused %s: %s", record, failure.getMessage());
            publishFailure(record, read.modelId(), read.version(), Optional.empty(), Optional.empty(), Known.NONE,
                    failure);
            return;
        }
        RegisteredModel model = read.model().orElseThrow();
        MDC.put("modelId", model.modelId());
        LOG.infof("registered %s version %s: %s", model.modelId(), model.version(), model.artifactUri());
        Job job = new Job(record, model, control);
        job.run();
    }

    /** One model's work; fields hold what each later stage and every event needs. */
    private final class Job {
        private final IncomingRecord record;
        private final RegisteredModel model;
        private final JobControl control;
        private final Progress progress;
        private Optional<String> inputDigest = Optional.empty();

        Job(IncomingRecord record, RegisteredModel model, JobControl control) {
            this.record = record;
            this.model = model;
            this.control = control;
            this.progress = new Progress(model, config.progressInterval(), () -> inputDigest);
        }

        void run() {
            List<HardwareProfile> profiles = resolveProfiles();
            if (profiles.isEmpty()) {
                return;
            }
            Path work = config.workDir().resolve(UUID.randomUUID().toString());
            try {
                Input input;
                try {
                    input = fetch(work);
                } catch (JobFailure failure) {
                    failed(Optional.empty(), Known.NONE, failure);
                    return;
                } catch (JobControl.Abandoned | PublishFailure | CancellationException e) {
                    throw e;
                } catch (RuntimeException e) {
                    failed(Optional.empty(), Known.NONE, internal(e));
                    return;
                }
                for (int i = 0; i < profiles.size(); i++) {
                    control.check();
                    runProfile(input, profiles.get(i), i, profiles.size());
                }
                progress.publish("done", Optional.empty(), 1, "", Known.NONE, true);
            } catch (CancellationException e) {
                control.checkAbandoned(); // abandoned for shutdown: nothing more to say
                failed(Optional.empty(), Known.NONE, timeout());
            } finally {
                deleteQuietly(work);
            }
        }

        private List<HardwareProfile> resolveProfiles() {
            List<String> ids = model.profiles().isEmpty() ? config.defaultProfiles() : model.profiles();
            List<HardwareProfile> profiles = new ArrayList<>();
            for (String id : ids) {
                Optional<HardwareProfile> profile = setup.profiles().find(id);
                if (profile.isPresent()) {
                    profiles.add(applyBudgets(profile.get()));
                } else {
                    failed(Optional.of(id), Known.NONE, new JobFailure(Stage.VALIDATE, false,
                            "unknown profile '" + id + "'; known profiles: " + String.join(", ", setup.profiles().ids())));
                }
            }
            return profiles;
        }

        private HardwareProfile applyBudgets(HardwareProfile profile) {
            if (model.budgets().isEmpty() && !config.requireRealData()) {
                return profile;
            }
            RegisteredModel.Budgets budgets = model.budgets().orElse(new RegisteredModel.Budgets(null, null, null, null,
                    null, null));
            return new HardwareProfile(profile.id(), profile.description(), profile.precisions(),
                    profile.quantizedFormat(), profile.executionProvider(),
                    budgets.memoryBytes().isPresent() ? budgets.memoryBytes() : profile.memoryBudgetBytes(),
                    budgets.sizeBytes().isPresent() ? budgets.sizeBytes() : profile.sizeBudgetBytes(),
                    budgets.latencyMillis().isPresent() ? budgets.latencyMillis() : profile.latencyBudgetMillis(),
                    budgets.maxAccuracyDrop().orElse(profile.maxAccuracyDrop()), profile.batchSize(), profile.threads(),
                    budgets.minMeanCosine().isPresent() ? budgets.minMeanCosine() : profile.minMeanCosine(),
                    budgets.minWorstCosine().isPresent() ? budgets.minWorstCosine() : profile.minWorstCosine(),
                    profile.requireRealData() || config.requireRealData());
        }

        /** Downloads the artifact's folder, verifies the sha256 and loads the model once for its digest. */
        private Input fetch(Path work) {
            S3Location artifact = S3Location.parse(model.artifactUri());
            progress.publish("download", Optional.empty(), 0, artifact.toString(), Known.NONE, true);
            List<ObjectStore.StoredObject> objects = store.listFolder(artifact.bucket(), artifact.folder());
            if (objects.stream().noneMatch(object -> object.location().equals(artifact))) {
                throw new JobFailure(Stage.DOWNLOAD, false, "no object at " + artifact);
            }
            long total = objects.stream().mapToLong(ObjectStore.StoredObject::size).sum();
            if (total > config.maxArtifactBytes()) {
                throw new JobFailure(Stage.DOWNLOAD, false, "the artifact folder s3://" + artifact.bucket() + "/"
                        + artifact.folder() + " holds " + total + " bytes in " + objects.size()
                        + " objects, over the limit of " + config.maxArtifactBytes()
                        + " bytes (MODELPRESS_MAX_ARTIFACT_BYTES)");
            }
            Path folder = work.resolve("input");
            createDirectories(folder);
            long done = 0;
            String fileSha = null;
            for (ObjectStore.StoredObject object : objects) {
                control.check();
                String name = object.location().fileName();
                if (name.isEmpty() || name.equals(".") || name.equals("..")) {
                    continue;
                }
                String sha = store.download(object.location(), folder.resolve(name), config.maxArtifactBytes() - done);
                done += object.size();
                metrics.downloaded(object.size());
                if (object.location().equals(artifact)) {
                    fileSha = sha;
                }
                progress.publish("download", Optional.empty(), DOWNLOAD_SHARE * 0.8 * done / Math.max(1, total), name,
                        Known.NONE, false);
            }
            Path modelFile = folder.resolve(artifact.fileName());
            progress.publish("verify", Optional.empty(), DOWNLOAD_SHARE * 0.8, "", Known.NONE, true);
            String digest;
            Map<String, Integer> inputRanks;
            try {
                OnnxModel loaded = OnnxModel.load(modelFile, setup.limits());
                digest = loaded.sourceDigest().orElseThrow();
                inputRanks = NpzData.inputRanks(loaded);
            } catch (ModelException e) {
                if (model.sha256().isPresent() && !model.sha256().get().equals(fileSha)) {
                    throw mismatch(fileSha, Optional.empty());
                }
                throw new JobFailure(Stage.LOAD, false, artifact + " is not a valid ONNX model: " + e.getMessage(), e);
            }
            if (model.sha256().isPresent() && !model.sha256().get().equals(fileSha) && !model.sha256().get().equals(digest)) {
                throw mismatch(fileSha, Optional.of(digest));
            }
            inputDigest = Optional.of(digest);
            Optional<DataFile> calibration = fetchData(model.calibrationDataUri(), work.resolve("data"), "calibration");
            Optional<DataFile> evaluation = fetchData(model.evaluationDataUri(), work.resolve("data"), "evaluation");
            return new Input(artifact, modelFile, digest, total, inputRanks, calibration, evaluation);
        }

        /** A data file named by the event, fetched once for all profiles. */
        private Optional<DataFile> fetchData(Optional<String> uri, Path folder, String what) {
            if (uri.isEmpty()) {
                return Optional.empty();
            }
            control.check();
            S3Location location = S3Location.parse(uri.get());
            createDirectories(folder);
            Path file = folder.resolve(what + ".npz");
            String sha;
            try {
                sha = store.download(location, file, config.maxDataBytes());
            } catch (JobFailure e) {
                throw new JobFailure(Stage.DOWNLOAD, e.retryable(), what + " data: " + e.getMessage(), e);
            }
            metrics.downloaded(size(file));
            return Optional.of(new DataFile(file, sha));
        }

        private Optional<CalibrationData> readData(Input input, Optional<DataFile> data, HardwareProfile profile,
                String what) {
            if (data.isEmpty()) {
                return Optional.empty();
            }
            Optional<Path> file = data.map(DataFile::file);
            try {
                return Optional.of(NpzData.read(file.get(), input.inputRanks(), profile.batchSize(), config.maxDataBytes()));
            } catch (EngineException e) {
                throw new JobFailure(Stage.VALIDATE, false, what + " data "
                        + (what.equals("calibration") ? model.calibrationDataUri() : model.evaluationDataUri()).orElse("")
                        + ": " + e.getMessage().replace(file.get().toString(), "the file"), e);
            }
        }

        private JobFailure mismatch(String fileSha, Optional<String> digest) {
            return new JobFailure(Stage.VERIFY, false, "sha256 mismatch: the event says " + model.sha256().orElseThrow()
                    + ", the model file's is " + fileSha
                    + digest.map(value -> " and with its external data " + value).orElse("")
                    + "; the artifact changed since it was registered, or the event names the wrong digest");
        }

        private void runProfile(Input input, HardwareProfile profile, int index, int count) {
            MDC.put("profile", profile.id());
            double from = DOWNLOAD_SHARE + (1 - DOWNLOAD_SHARE) * index / count;
            double span = (1 - DOWNLOAD_SHARE) / count;
            Known known = Known.NONE;
            long started = System.nanoTime();
            try {
                PlanChoice choice = chooser.choose(model, profile);
                CompressionEngine engine = setup.newEngine();
                control.engine(engine);
                ChainRunner runner = new ChainRunner(engine, benchmarkSettings());
                Optional<List<EventData.PlanStep>> named = choice.planned() ? Optional.empty()
                        : Optional.of(runner.plan(choice.chain(), profile));
                String request = requestDigest(profile, choice, named, input);
                known = new Known(named, named.map(steps -> planDigest(profile, steps)), Optional.of(request));
                S3Location indexEntry = input.artifact().withKey(input.artifact().folder() + "modelpress/index/"
                        + profile.id() + "/" + input.digest() + "/" + request + ".json");
                Optional<String> stored = store.readText(indexEntry);
                if (stored.isPresent()) {
                    replay(stored.get(), indexEntry, input, profile, request);
                    return;
                }
                Path out = input.modelFile().getParent().resolveSibling("out-" + profile.id());
                CompressionReport report = compress(runner, choice, input, profile, out, known, from, span);
                List<EventData.PlanStep> steps = report.plan().stream().map(EventData.PlanStep::of).toList();
                known = new Known(Optional.of(steps), Optional.of(planDigest(profile, steps)), Optional.of(request));
                metrics.compressed(profile.id(), "done", Duration.ofNanos(System.nanoTime() - started));
                control.check();
                ChainRunner.checkUsable(report);
                progress.publish("store " + profile.id(), Optional.of(profile.id()), from + span * 0.92, "", known, true);
                EventData.Choice how = report.planning().map(EventData.Choice::of)
                        .orElseGet(() -> EventData.Choice.named(choice.by()));
                Stored result = store(input, profile, report, out, known, how, indexEntry);
                control.check();
                await(events.publish(Topic.COMPRESSION_RESULTS, model.modelId(), result.resultId(), result.result()));
                await(events.publish(Topic.BENCHMARKS, model.modelId(), result.benchmarkId(), result.benchmark()));
                LOG.infof("%s for %s with %s (%s): %d -> %d bytes, stored at %s", report.status(), profile.id(),
                        steps.isEmpty() ? "the original kept" : chainText(steps), how.by(), report.original().bytes(),
                        report.compressed().bytes(), result.location());
            } catch (JobFailure failure) {
                metrics.compressed(profile.id(), "failed", Duration.ofNanos(System.nanoTime() - started));
                failed(Optional.of(profile.id()), known, failure);
            } catch (EngineException e) {
                metrics.compressed(profile.id(), "failed", Duration.ofNanos(System.nanoTime() - started));
                failed(Optional.of(profile.id()), known, new JobFailure(Stage.COMPRESS, false, e.getMessage(), e));
            } catch (CancellationException e) {
                // Timed out: the whole model is over time, so the model reports it once, not each profile.
                control.checkAbandoned();
                throw e;
            } catch (JobControl.Abandoned | PublishFailure e) {
                throw e;
            } catch (RuntimeException e) {
                failed(Optional.of(profile.id()), known, internal(e));
            } finally {
                MDC.remove("profile");
            }
        }

        /** Runs the chosen chain, its progress reported within this profile's share of the model's work. */
        private CompressionReport compress(ChainRunner runner, PlanChoice choice, Input input, HardwareProfile profile,
                Path out, Known known, double from, double span) {
            String stagePrefix = "compress " + profile.id() + ": ";
            progress.publish(stagePrefix + (choice.planned() ? "plan" : "chain"), Optional.of(profile.id()), from,
                    choice.planned() ? "the planner searches the candidate chains" : "chain named by " + choice.by(),
                    known, true);
            Optional<CalibrationData> calibration = readData(input, input.calibration(), profile, "calibration");
            Optional<CalibrationData> evaluation = readData(input, input.evaluation(), profile, "evaluation");
            ProgressListener listener = (stage, fraction, message) -> {
                control.check(); // a stopped or timed-out job ends at its next report
                progress.publish(stagePrefix + stage, Optional.of(profile.id()), from + span * 0.9 * fraction, message,
                        known, false);
            };
            return runner.run(choice, input.modelFile(), profile, out, calibration, evaluation, listener);
        }

        /**
         * What makes two requests the same request, so that the second is answered from storage:
         * the profile as applied, the named chain's plan or the planner's budget and the installed
         * plugins it chooses among, and the digests of the calibration and evaluation data.
         */
        private String requestDigest(HardwareProfile profile, PlanChoice choice, Optional<List<EventData.PlanStep>> plan,
                Input input) {
            Map<String, Object> identity = new LinkedHashMap<>();
            identity.put("profile", profile);
            if (choice.planned()) {
                identity.put("budget", EventData.BudgetView.of(choice.budget().orElseThrow()));
                identity.put("plugins", setup.plugins().all().stream()
                        .map(plugin -> plugin.id() + "@" + plugin.plugin().version()).sorted().toList());
            } else {
                identity.put("plan", plan.orElseThrow());
            }
            input.calibration().ifPresent(data -> identity.put("calibration", data.sha256()));
            input.evaluation().ifPresent(data -> identity.put("evaluation", data.sha256()));
            return sha256(EventJson.write(identity)).substring(0, 16);
        }

        private Stored store(Input input, HardwareProfile profile, CompressionReport report, Path out, Known known,
                EventData.Choice choice, S3Location index) {
            String prefix = input.artifact().folder() + "modelpress/" + profile.id() + "/" + report.compressed().digest() + "/";
            String request = known.requestDigest().orElseThrow();
            List<String> names = new ArrayList<>();
            long uploaded = 0;
            for (Path file : list(out)) {
                control.check();
                String name = storedName(file.getFileName().toString(), request);
                store.upload(file, input.artifact().withKey(prefix + name),
                        name.endsWith(".json") ? "application/json" : "application/octet-stream");
                names.add(name);
                uploaded += size(file);
            }
            metrics.uploaded(uploaded);
            S3Location location = input.artifact().withKey(prefix + "model.onnx");
            ResultEvents events = new ResultEvents(model, config.benchmark().enabled());
            EventData.CompressionResult result = events.result(input, profile, report, known, choice,
                    input.artifact().withKey(prefix), names, storedName(Reports.FILE, request));
            EventData.Benchmark benchmark = events.benchmark(input, profile, report, known);
            String resultId = eventId(model, input.digest(), profile.id(), request, Topic.COMPRESSION_RESULTS);
            String benchmarkId = eventId(model, input.digest(), profile.id(), request, Topic.BENCHMARKS);
            ObjectNode entry = EventJson.mapper().createObjectNode();
            entry.set("result", EventJson.tree(result));
            entry.set("benchmark", EventJson.tree(benchmark));
            // Written last: an index entry means every file it points at is stored.
            store.writeText(index, EventJson.write(entry), "application/json");
            return new Stored(location, resultId, result, benchmarkId, benchmark);
        }

        /**
         * The model's files keep their names in its content-addressed folder; the report is the
         * request's own: other requests (another budget, other evaluation data) can produce the same
         * model with a report of their own, and none may overwrite another.
         */
        private static String storedName(String name, String request) {
            return name.equals(Reports.FILE) ? "reports/" + request + ".json" : name;
        }

        /**
         * The same request computed before: its stored result events again, marked replayed and
         * made this registration's. A redelivered event gets the very events (and ids) it got then;
         * another version or id registering the same bytes from the same folder gets its own.
         */
        private void replay(String stored, S3Location index, Input input, HardwareProfile profile, String request) {
            JsonNode entry;
            try {
                entry = EventJson.mapper().readTree(stored);
            } catch (IOException e) {
                throw new JobFailure(Stage.STORE, false, "the stored result " + index + " is not JSON: " + e.getMessage());
            }
            if (!(entry.get("result") instanceof ObjectNode result) || !(entry.get("benchmark") instanceof ObjectNode benchmark)) {
                throw new JobFailure(Stage.STORE, false, "the stored result " + index + " lacks its result or benchmark event");
            }
            asThisRegistration(result);
            if (result.path("input") instanceof ObjectNode registered) {
                registered.put("artifactUri", model.artifactUri());
            }
            result.set("labels", EventJson.mapper().valueToTree(model.labels()));
            if (result.path("calibration") instanceof ObjectNode calibration) {
                model.calibrationDataUri().ifPresentOrElse(uri -> calibration.put("dataUri", uri),
                        () -> calibration.remove("dataUri"));
            }
            asThisRegistration(benchmark);
            control.check();
            metrics.replayed();
            await(events.publish(Topic.COMPRESSION_RESULTS, model.modelId(),
                    eventId(model, input.digest(), profile.id(), request, Topic.COMPRESSION_RESULTS), result));
            await(events.publish(Topic.BENCHMARKS, model.modelId(),
                    eventId(model, input.digest(), profile.id(), request, Topic.BENCHMARKS), benchmark));
            LOG.infof("answered from storage (%s): computed before", index);
        }

        /** The registration's own identity on a stored event; the figures stay as they were measured. */
        private void asThisRegistration(ObjectNode event) {
            event.put("modelId", model.modelId()).put("version", model.version()).put("replayed", true);
        }

        private void failed(Optional<String> profile, Known known, JobFailure failure) {
            LOG.warnf("failed at %s%s: %s", failure.stage().label(), profile.map(id -> " for " + id).orElse(""),
                    failure.getMessage());
            if (failure.stage() == Stage.INTERNAL && failure.getCause() != null) {
                LOG.error("internal error", failure.getCause());
            }
            publishFailure(record, Optional.of(model.modelId()), Optional.of(model.version()), profile, inputDigest,
                    known, failure);
        }

        private JobFailure internal(RuntimeException e) {
            return new JobFailure(Stage.INTERNAL, true, "internal error: " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()), e);
        }

        private JobFailure timeout() {
            return new JobFailure(Stage.COMPRESS, false, "the model took longer than " + config.jobTimeout()
                    + " (MODELPRESS_JOB_TIMEOUT) and was cancelled");
        }
    }

    private void publishFailure(IncomingRecord record, Optional<String> modelId, Optional<String> version,
            Optional<String> profile, Optional<String> inputDigest, Known known, JobFailure failure) {
        metrics.failed(failure.stage());
        EventData.Failure data = new EventData.Failure(modelId, version, profile, inputDigest, known.plan(),
                known.planDigest(), known.requestDigest(), failure.stage().label(),
                oneLine(failure.getMessage()), failure.retryable(), record.original(), Instant.now().toString());
        String key = modelId.or(record::key).orElse(null);
        await(events.publish(Topic.FAILURES, key, EventPublisher.newId(), data));
    }

    private static String oneLine(String text) {
        return text.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    private static void await(CompletableFuture<Void> sent) {
        try {
            sent.get(PUBLISH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PublishFailure("interrupted while publishing", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new PublishFailure("cannot publish an event: " + (e.getCause() == null ? e : e.getCause()), e);
        }
    }

    /** Throttled progress events of one model: a new stage always, the same stage at most once per interval. */
    private final class Progress {
        private final RegisteredModel model;
        private final long intervalNanos;
        private final Supplier<Optional<String>> inputDigest;
        private String lastStage = "";
        private long lastSent;

        Progress(RegisteredModel model, Duration interval, Supplier<Optional<String>> inputDigest) {
            this.model = model;
            this.intervalNanos = interval.toNanos();
            this.inputDigest = inputDigest;
        }

        synchronized void publish(String stage, Optional<String> profile, double fraction, String message, Known known,
                boolean newStage) {
            long now = System.nanoTime();
            boolean changed = newStage || !stage.equals(lastStage);
            if (!changed && now - lastSent < intervalNanos) {
                return;
            }
            lastStage = stage;
            lastSent = now;
            double clamped = Math.max(0, Math.min(1, fraction));
            EventData.Progress data = new EventData.Progress(model.modelId(), model.version(), profile, stage, clamped,
                    (int) Math.floor(clamped * 100), message == null || message.isEmpty() ? Optional.empty()
                            : Optional.of(message), currentDigest(), known.plan(), known.planDigest(),
                    known.requestDigest(), Instant.now().toString());
            // Progress is best effort: never holds the work up, never fails it.
            events.publish(Topic.PROGRESS, model.modelId(), EventPublisher.newId(), data).whenComplete((ignored, error) -> {
                if (error != null) {
                    LOG.debugf("progress event not published: %s", error.toString());
                }
            });
        }

        private Optional<String> currentDigest() {
            return inputDigest.get();
        }
    }

    /** The fetched artifact: where it came from, the model file, its digest, size and input ranks, and the data files. */
    record Input(S3Location artifact, Path modelFile, String digest, long bytes, Map<String, Integer> inputRanks,
            Optional<DataFile> calibration, Optional<DataFile> evaluation) {
    }

    /** A calibration or evaluation file as fetched, with the sha256 of its bytes. */
    record DataFile(Path file, String sha256) {
    }

    /** What is known of a profile's work so far, for the events about it: the plan once chosen, and the digests. */
    record Known(Optional<List<EventData.PlanStep>> plan, Optional<String> planDigest,
            Optional<String> requestDigest) {
        static final Known NONE = new Known(Optional.empty(), Optional.empty(), Optional.empty());
    }

    private Optional<BenchmarkSettings> benchmarkSettings() {
        CompressorConfig.Benchmark benchmark = config.benchmark();
        return benchmark.enabled() ? Optional.of(new BenchmarkSettings(benchmark.threads(), benchmark.warmup(),
                benchmark.iterations())) : Optional.empty();
    }

    private record Stored(S3Location location, String resultId, EventData.CompressionResult result, String benchmarkId,
            EventData.Benchmark benchmark) {
    }

    /**
     * The id of an output event, deterministic so that a result published again keeps the CloudEvents
     * id consumers may deduplicate on: the same registration of the same request always gets the same one.
     */
    static String eventId(RegisteredModel model, String inputDigest, String profile, String requestDigest, Topic topic) {
        return sha256(model.modelId() + "/" + model.version() + "/" + inputDigest + "/" + profile + "/" + requestDigest
                + "/" + topic.eventType()).substring(0, 32);
    }

    private static String chainText(List<EventData.PlanStep> steps) {
        return String.join(" -> ", steps.stream().map(step -> step.plugin()).toList());
    }

    /** The profile as applied and the plan: with the input digest, what makes a result the same result. */
    static String planDigest(HardwareProfile profile, List<EventData.PlanStep> plan) {
        Map<String, Object> identity = new LinkedHashMap<>();
        identity.put("profile", profile);
        identity.put("plan", plan);
        return sha256(EventJson.write(identity)).substring(0, 16);
    }

    private static String sha256(String text) {
        return HexFormat.of().formatHex(ObjectStore.sha256().digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    private static List<Path> list(Path folder) {
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new JobFailure(Stage.STORE, true, "cannot list the output folder " + folder + ": " + e.getMessage(), e);
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    private static void createDirectories(Path folder) {
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new JobFailure(Stage.DOWNLOAD, true, "cannot create the work folder " + folder + ": " + e.getMessage(), e);
        }
    }

    private static void deleteQuietly(Path folder) {
        if (!Files.exists(folder)) {
            return;
        }
        try (Stream<Path> files = Files.walk(folder)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            LOG.debugf("work folder %s left behind: %s", folder, e.getMessage());
        }
    }
}

package io.modelpress.compressor;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.CompressionReport;
import io.modelpress.engine.EngineException;
import io.modelpress.engine.ProgressListener;
import io.modelpress.engine.data.NpzData;
import io.modelpress.engine.data.raw.RawArchive;
import io.modelpress.engine.job.ArtifactFetch;
import io.modelpress.engine.job.BudgetOverrides;
import io.modelpress.engine.job.CompressionJob;
import io.modelpress.engine.job.Replay;
import io.modelpress.engine.job.PlanChoice;
import io.modelpress.engine.job.RequestIdentity;
import io.modelpress.inference.BenchmarkSettings;
import io.modelpress.model.ModelException;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.HardwareProfile;
import io.smallrye.faulttolerance.api.Guard;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
    private static final int MAX_REASON_CHARS = 2048;
    /**
     * Each candidate of the planner's search is a stage ("plan 3/12"), whatever step of it runs
     * ("plan 3/12 step 1/2 ..."): its start is always published, so progress says which candidate
     * runs and how many are done, and a search costs at most one event per candidate beyond the interval.
     */
    static final java.util.regex.Pattern PLANNER_STAGE = java.util.regex.Pattern.compile("(: plan(?: \\d+/\\d+)?)\\b.*$");
    /** Set by the connector's delayed-retry-topic failure strategy on a record it sends again. */
    static final String REDELIVERY_HEADER = "delayed-retry-count";

    private final ObjectStore store;
    private final EventPublisher events;
    private final EngineSetup setup;
    private final ChainChooser chooser;
    private final CompressorConfig config;
    private final CompressorMetrics metrics;
    private final CrashLedger crashes;
    private final InputPolicy inputs;
    private final WorkFolder workFolder;
    private final Guard publishing;

    @Inject
    public Compressor(ObjectStore store, EventPublisher events, EngineSetup setup, ChainChooser chooser,
            CompressorConfig config, CompressorMetrics metrics, CrashLedger crashes, WorkFolder workFolder) {
        this.store = store;
        this.events = events;
        this.setup = setup;
        this.chooser = chooser;
        this.config = config;
        this.metrics = metrics;
        this.crashes = crashes;
        this.workFolder = workFolder;
        this.inputs = new InputPolicy(config.inputs().allowed());
        this.publishing = Backoff.guard("publishing", config.faults().backoff());
    }

    /**
     * Does everything for one record and returns once every output event is published.
     *
     * @throws JobControl.Abandoned when stopped for shutdown (nothing more was published)
     * @throws PublishFailure when an output event could not be published
     */
    void process(IncomingRecord record, JobControl control) {
        metrics.received();
        int before = crashes.begin(record, control);
        if (before >= config.faults().maxCrashes()) {
            LOG.errorf("refused %s: it ended the service %d times", record, before);
            CloudEventReader.Read read = CloudEventReader.read(record); // only for the model's id and version
            publishFailure(record, read.modelId(), read.version(), Optional.empty(), Optional.empty(), Known.NONE,
                    new JobFailure(Stage.INTERNAL, false, "this record ended the service " + before + " times (out of"
                            + " memory or a crash; the service's log tells which) and is not run again"
                            + " (MODELPRESS_FAULTS_MAX_CRASHES=" + config.faults().maxCrashes() + ")"));
            crashes.finished(record);
            return;
        }
        try {
            processOnce(record, control);
        } catch (JobControl.Abandoned e) {
            crashes.finished(record); // stopped on purpose: processed again elsewhere, no crash
            throw e;
        } catch (OutOfMemoryError e) {
            throw e; // the marker stays and counts the crash
        } catch (RuntimeException e) {
            crashes.finished(record); // sent again through the retry topic, or to the dead letters: no crash
            throw e;
        } catch (Error e) {
            LOG.errorf(e, "%s: %s before its job started", record, e);
            publishFailure(record, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Known.NONE,
                    new JobFailure(Stage.INTERNAL, false, "internal error: " + e, e));
        }
        crashes.finished(record);
    }

    /** Reads the event and runs its job. */
    private void processOnce(IncomingRecord record, JobControl control) {
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
        private final List<String> deferred = new ArrayList<>();
        private Optional<String> inputDigest = Optional.empty();

        Job(IncomingRecord record, RegisteredModel model, JobControl control) {
            this.record = record;
            this.model = model;
            this.control = control;
            this.progress = new Progress(model, config.progressInterval(), () -> inputDigest);
        }

        void run() {
            runStages();
            if (!deferred.isEmpty()) {
                progress.publish("retry", Optional.empty(), 0, String.join("; ", deferred), Known.NONE, true);
                throw new RetryLater(String.join("; ", deferred));
            }
        }

        private void runStages() {
            List<HardwareProfile> profiles = resolveProfiles();
            if (profiles.isEmpty()) {
                return;
            }
            Path folder = workFolder.newJob();
            try {
                Input input;
                try {
                    input = fetch(folder);
                } catch (JobFailure failure) {
                    failed(Optional.empty(), Known.NONE, failure);
                    return;
                } catch (JobControl.Abandoned | PublishFailure | CancellationException | OutOfMemoryError e) {
                    throw e;
                } catch (RuntimeException | Error e) {
                    failed(Optional.empty(), Known.NONE, internal(e));
                    return;
                }
                for (int i = 0; i < profiles.size(); i++) {
                    control.check();
                    runProfile(input, profiles.get(i), i, profiles.size());
                }
                if (deferred.isEmpty()) {
                    progress.publish("done", Optional.empty(), 1, "", Known.NONE, true);
                }
            } catch (CancellationException e) {
                control.checkAbandoned(); // abandoned for shutdown: nothing more to say
                failed(Optional.empty(), Known.NONE, timeout());
            } finally {
                deleteQuietly(folder);
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
            return model.budgets().map(RegisteredModel.Budgets::overrides).orElse(BudgetOverrides.NONE)
                    .applyTo(profile, config.requireRealData());
        }

        /**
         * Fetches what the event names and nothing else, by the engine's download policy (see
         * ArtifactFetch): the model file, the external data files it declares, and the named data,
         * the sha256 checked before the model is parsed. Then the model is loaded once for its digest.
         */
        private Input fetch(Path work) {
            S3Location artifact = inputs.check(model.artifactUri(), "artifactUri");
            Optional<S3Location> calibrationUri = model.calibrationDataUri().map(uri -> inputs.check(uri, "calibrationDataUri"));
            Optional<S3Location> evaluationUri = model.evaluationDataUri().map(uri -> inputs.check(uri, "evaluationDataUri"));
            if (model.sha256().isEmpty() && config.inputs().requireSha256()) {
                throw new JobFailure(Stage.VALIDATE, false, "the event has no sha256 of the model; it is required"
                        + " so that the artifact is checked before it is read (MODELPRESS_INPUTS_REQUIRE_SHA256=false"
                        + " to accept events without one)");
            }
            progress.publish("download", Optional.empty(), 0, artifact.toString(), Known.NONE, true);
            long limit = Math.min(config.maxArtifactBytes(), config.workQuotaBytes());
            ArtifactFetch.Model fetched;
            try {
                fetched = fetcher(artifact.bucket()).model(artifact.key(), model.sha256(), work.resolve("input"), limit);
            } catch (ArtifactFetch.Mismatch e) {
                throw mismatch(e.fileSha256(), e.withExternal());
            } catch (ArtifactFetch.Refused e) {
                throw refused(e, "", "MODELPRESS_MAX_ARTIFACT_BYTES, MODELPRESS_WORK_QUOTA_BYTES");
            }
            progress.publish("verify", Optional.empty(), DOWNLOAD_SHARE * 0.8, "", Known.NONE, true);
            Path modelFile = fetched.file();
            String digest;
            Map<String, Integer> inputRanks;
            try {
                OnnxModel loaded = OnnxModel.load(modelFile, setup.limits());
                digest = loaded.sourceDigest().orElseThrow();
                inputRanks = NpzData.inputRanks(loaded);
            } catch (ModelException e) {
                throw new JobFailure(Stage.LOAD, false, artifact + " is not a valid ONNX model: " + e.getMessage(), e);
            }
            inputDigest = Optional.of(digest);
            Optional<DataFile> calibration = fetchData(calibrationUri, work.resolve("data"), "calibration");
            Optional<DataFile> evaluation = fetchData(evaluationUri, work.resolve("data"), "evaluation");
            return new Input(artifact, modelFile, digest, fetched.bytes(), inputRanks, calibration, evaluation);
        }

        /** The download policy over one bucket: each file counted, external data reported as progress. */
        private ArtifactFetch fetcher(String bucket) {
            return new ArtifactFetch(new BucketStorage(store, bucket), new ArtifactFetch.Listener() {
                @Override
                public void fetched(String key, long bytes, long modelBytes, long modelLimit) {
                    metrics.downloaded(bytes);
                    if (modelLimit > 0) {
                        progress.publish("download", Optional.empty(), DOWNLOAD_SHARE * 0.8 * modelBytes / modelLimit,
                                key.substring(key.lastIndexOf('/') + 1), Known.NONE, false);
                    }
                }

                @Override
                public void check() {
                    control.check();
                }
            });
        }

        /** What the download policy refused, as a failure of the stage it belongs to. */
        private JobFailure refused(ArtifactFetch.Refused e, String prefix, String limitSettings) {
            return switch (e.kind()) {
                case MISSING -> new JobFailure(Stage.DOWNLOAD, false, prefix + e.getMessage(), e);
                case OVER_LIMIT -> new JobFailure(Stage.DOWNLOAD, false, prefix + e.getMessage() + " ("
                        + limitSettings + ")", e);
                case OUTSIDE_FOLDER -> new JobFailure(Stage.VALIDATE, false, prefix + e.getMessage(), e);
                case NOT_A_MODEL -> new JobFailure(Stage.LOAD, false, prefix + e.getMessage(), e);
            };
        }

        /** A data file named by the event, fetched once for all profiles. */
        private Optional<DataFile> fetchData(Optional<S3Location> uri, Path folder, String what) {
            if (uri.isEmpty()) {
                return Optional.empty();
            }
            S3Location location = uri.get();
            Path file = folder.resolve(what + ".npz");
            try {
                return Optional.of(new DataFile(file, fetcher(location.bucket()).data(location.key(), file,
                        config.maxDataBytes())));
            } catch (ArtifactFetch.Refused e) {
                throw refused(e, what + " data: ", "MODELPRESS_MAX_DATA_BYTES");
            } catch (JobFailure e) {
                throw new JobFailure(Stage.DOWNLOAD, e.retryable(), what + " data: " + e.getMessage(), e);
            }
        }

        private Optional<CalibrationData> readData(Input input, Optional<DataFile> data, HardwareProfile profile,
                String what) {
            if (data.isEmpty()) {
                return Optional.empty();
            }
            Optional<Path> file = data.map(DataFile::file);
            try {
                return Optional.of(NpzData.read(npzOf(input, file.get()), input.inputRanks(), profile.batchSize(), config.maxDataBytes()));
            } catch (EngineException e) {
                throw new JobFailure(Stage.VALIDATE, false, what + " data "
                        + (what.equals("calibration") ? model.calibrationDataUri() : model.evaluationDataUri()).orElse("")
                        + ": " + e.getMessage().replace(file.get().toString(), "the file"), e);
            }
        }

        /** A zip of raw files with its settings (see RawArchive) becomes the model's .npz, once per job. */
        private Path npzOf(Input input, Path file) {
            if (!RawArchive.isRawArchive(file)) {
                return file;
            }
            Path npz = file.resolveSibling(file.getFileName() + ".converted.npz");
            if (!Files.exists(npz)) {
                RawArchive.toNpz(file, OnnxModel.load(input.modelFile(), setup.limits()), npz, config.maxDataBytes());
            }
            return npz;
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
                CompressionEngine engine = setup.newEngine(input.modelFile().getParent().resolveSibling("tmp"), profile.id());
                control.engine(engine);
                BucketStorage storage = new BucketStorage(store, input.artifact().bucket());
                CompressionJob job = new CompressionJob(engine, storage, benchmarkSettings());
                CompressionJob.Input jobInput = new CompressionJob.Input(input.modelFile(), input.digest(),
                        input.artifact().folder(), input.calibration().map(DataFile::sha256),
                        input.evaluation().map(DataFile::sha256));
                CompressionJob.Request request = identify(job, jobInput, profile, choice);
                known = new Known(request.plan().map(Compressor::steps), request.planDigest(),
                        Optional.of(request.digest()));
                Optional<String> stored = job.lookup(request);
                if (stored.isPresent()) {
                    replay(stored.get(), storage.location(request.indexKey()), input, profile, request.digest());
                    return;
                }
                Path out = input.modelFile().getParent().resolveSibling("out-" + profile.id());
                CompressionReport report = compress(job, request, input, profile, out, known, from, span);
                checkQuota(input.modelFile().getParent().getParent());
                List<EventData.PlanStep> steps = steps(report.plan());
                known = new Known(Optional.of(steps), Optional.of(CompressionJob.planDigest(request, report)),
                        Optional.of(request.digest()));
                metrics.compressed(profile.id(), "done", Duration.ofNanos(System.nanoTime() - started));
                control.check();
                checkUsable(report);
                progress.publish("store " + profile.id(), Optional.of(profile.id()), from + span * 0.92, "", known, true);
                EventData.Choice how = report.planning().map(EventData.Choice::of)
                        .orElseGet(() -> EventData.Choice.named(choice.by()));
                Stored result = store(job, jobInput, request, input, profile, report, out, known, how);
                control.check();
                publish(Topic.COMPRESSION_RESULTS, model.modelId(), result.resultId(), result.result());
                publish(Topic.BENCHMARKS, model.modelId(), result.benchmarkId(), result.benchmark());
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
            } catch (JobControl.Abandoned | PublishFailure | OutOfMemoryError e) {
                throw e;
            } catch (RuntimeException | Error e) {
                // Any other Throwable (a plugin's Error included) ends this profile, never the service.
                failed(Optional.of(profile.id()), known, internal(e));
            } finally {
                MDC.remove("profile");
            }
        }

        /** The request's identity; a named chain that cannot run is refused before the model is read. */
        private CompressionJob.Request identify(CompressionJob job, CompressionJob.Input input, HardwareProfile profile,
                PlanChoice choice) {
            try {
                return job.identify(input, profile, choice);
            } catch (EngineException e) {
                throw new JobFailure(Stage.PLAN, false, e.getMessage(), e);
            }
        }

        /** Runs the chosen chain, its progress reported within this profile's share of the model's work. */
        private CompressionReport compress(CompressionJob job, CompressionJob.Request request, Input input,
                HardwareProfile profile, Path out, Known known, double from, double span) {
            PlanChoice choice = request.choice();
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
            try {
                return job.compute(request, input.modelFile(), out, calibration, evaluation, listener);
            } catch (EngineException e) {
                if (choice.planned()) {
                    throw new JobFailure(Stage.PLAN, false, e.getMessage(), e);
                }
                throw e;
            }
        }

        private Stored store(CompressionJob job, CompressionJob.Input jobInput, CompressionJob.Request request,
                Input input, HardwareProfile profile, CompressionReport report, Path out, Known known,
                EventData.Choice choice) {
            CompressionJob.Stored files;
            try {
                files = job.store(jobInput, request, report, out, control::check);
            } catch (EngineException e) {
                throw new JobFailure(Stage.STORE, true, e.getMessage(), e);
            }
            metrics.uploaded(files.uploadedBytes());
            S3Location location = input.artifact().withKey(files.folder() + "model.onnx");
            ResultEvents events = new ResultEvents(model, config.benchmark().enabled());
            EventData.CompressionResult result = events.result(input, profile, report, known, choice,
                    input.artifact().withKey(files.folder()), files.files(), files.reportName());
            EventData.Benchmark benchmark = events.benchmark(input, profile, report, known);
            String resultId = eventId(model, input.digest(), profile.id(), request.digest(), Topic.COMPRESSION_RESULTS);
            String benchmarkId = eventId(model, input.digest(), profile.id(), request.digest(), Topic.BENCHMARKS);
            ObjectNode entry = EventJson.mapper().createObjectNode();
            entry.set("result", EventJson.tree(result));
            entry.set("benchmark", EventJson.tree(benchmark));
            job.index(request, EventJson.write(entry));
            return new Stored(location, resultId, result, benchmarkId, benchmark);
        }

        /** The same request computed before: its stored events again, made this registration's. */
        private void replay(String stored, S3Location index, Input input, HardwareProfile profile, String request) {
            Replay.Events replayed;
            try {
                replayed = Replay.of(stored, index.toString(), new Replay.Registration(model.modelId(), model.version(),
                        model.artifactUri(), model.labels(), model.calibrationDataUri()));
            } catch (EngineException e) {
                throw new JobFailure(Stage.STORE, false, e.getMessage(), e);
            }
            control.check();
            metrics.replayed();
            publish(Topic.COMPRESSION_RESULTS, model.modelId(),
                    eventId(model, input.digest(), profile.id(), request, Topic.COMPRESSION_RESULTS), replayed.result());
            publish(Topic.BENCHMARKS, model.modelId(),
                    eventId(model, input.digest(), profile.id(), request, Topic.BENCHMARKS), replayed.benchmark());
            LOG.infof("answered from storage (%s): computed before", index);
        }

        private void failed(Optional<String> profile, Known known, JobFailure failure) {
            int redelivered = redeliveries(record);
            if (failure.retryable() && redelivered < config.faults().redeliveries()) {
                // Transient and already retried with backoff: the record goes to the retry topic
                // and comes again later; the failure is published only when the retries run out.
                LOG.warnf("failed at %s%s for a transient reason, sent again later (redelivery %d of %d): %s",
                        failure.stage().label(), profile.map(id -> " for " + id).orElse(""), redelivered + 1,
                        config.faults().redeliveries(), failure.getMessage());
                deferred.add(profile.map(id -> id + ": ").orElse("") + oneLine(failure.getMessage()));
                return;
            }
            LOG.warnf("failed at %s%s: %s", failure.stage().label(), profile.map(id -> " for " + id).orElse(""),
                    failure.getMessage());
            if (failure.stage() == Stage.INTERNAL && failure.getCause() != null) {
                LOG.error("internal error", failure.getCause());
            }
            publishFailure(record, Optional.of(model.modelId()), Optional.of(model.version()), profile, inputDigest,
                    known, failure);
        }

        /** Ends the profile when the job's folder (downloads, outputs, temporary files) went over its quota. */
        private void checkQuota(Path work) {
            long used = folderSize(work);
            if (used > config.workQuotaBytes()) {
                throw new JobFailure(Stage.COMPRESS, false, "the job's work folder holds " + used
                        + " bytes, over its quota of " + config.workQuotaBytes() + " bytes (MODELPRESS_WORK_QUOTA_BYTES)");
            }
        }

        private JobFailure internal(Throwable e) {
            // A bug, not an outage: the same event fails the same way, so it is not sent again.
            return new JobFailure(Stage.INTERNAL, false, "internal error: " + e.getClass().getSimpleName()
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
                bounded(oneLine(failure.getMessage())), failure.retryable(),
                record.original(config.faults().originalValueBytes()), Instant.now().toString());
        String key = modelId.or(record::key).orElse(null);
        publish(Topic.FAILURES, key, EventPublisher.newId(), data);
    }

    /** Publishes and waits for the broker, again with backoff while it cannot be reached. */
    private void publish(Topic topic, String key, String id, Object data) {
        Backoff.run(publishing, () -> {
            await(events.publish(topic, key, id, data));
            return null;
        });
    }

    /** How many times the record came back through the retry topics (the connector's header). */
    static int redeliveries(IncomingRecord record) {
        try {
            return record.header(REDELIVERY_HEADER).map(String::strip).map(Integer::parseInt).orElse(0);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** A reason a person can read, never so long that the event cannot be published. */
    private static String bounded(String reason) {
        return reason.length() <= MAX_REASON_CHARS ? reason : reason.substring(0, MAX_REASON_CHARS) + " ... ("
                + (reason.length() - MAX_REASON_CHARS) + " more characters)";
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

    /**
     * Throttled progress events of one model: a change of stage always (the service's download,
     * verify, store, done; the engine's load, each step of a named chain, save, verify, benchmark,
     * with each candidate of the planner's search one stage, whatever steps it runs); within a
     * stage at most one event per interval for each profile.
     */
    private final class Progress {
        private final RegisteredModel model;
        private final long intervalNanos;
        private final Supplier<Optional<String>> inputDigest;
        private final Map<String, Long> lastSent = new HashMap<>();
        private final Map<String, String> lastStage = new HashMap<>();

        Progress(RegisteredModel model, Duration interval, Supplier<Optional<String>> inputDigest) {
            this.model = model;
            this.intervalNanos = interval.toNanos();
            this.inputDigest = inputDigest;
        }

        synchronized void publish(String stage, Optional<String> profile, double fraction, String message, Known known,
                boolean newStage) {
            long now = System.nanoTime();
            String lane = profile.orElse("");
            String stageClass = PLANNER_STAGE.matcher(stage).replaceFirst("$1");
            boolean changed = newStage || !stageClass.equals(lastStage.get(lane));
            Long last = lastSent.get(lane);
            if (!changed && last != null && now - last < intervalNanos) {
                return;
            }
            lastSent.put(lane, now);
            lastStage.put(lane, stageClass);
            double clamped = Math.max(0, Math.min(1, fraction));
            EventData.Progress data = new EventData.Progress(model.modelId(), model.version(), profile, stage, clamped,
                    (int) Math.floor(clamped * 100), message == null || message.isEmpty() ? Optional.empty()
                            : Optional.of(bounded(message)), inputDigest.get(), known.plan(), known.planDigest(),
                    known.requestDigest(), Instant.now().toString());
            // Progress is best effort: never holds the work up, never fails it.
            events.publish(Topic.PROGRESS, model.modelId(), EventPublisher.newId(), data).whenComplete((ignored, error) -> {
                if (error != null) {
                    LOG.debugf("progress event not published: %s", error.toString());
                }
            });
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
        if (!benchmark.enabled()) {
            return Optional.empty();
        }
        BenchmarkSettings settings = BenchmarkSettings.of(benchmark.threads(), benchmark.warmup(), benchmark.iterations());
        return Optional.of(benchmark.memory() ? settings : settings.withoutMemory());
    }

    private record Stored(S3Location location, String resultId, EventData.CompressionResult result, String benchmarkId,
            EventData.Benchmark benchmark) {
    }

    /**
     * The id of an output event, deterministic so that a result published again keeps the CloudEvents
     * id consumers may deduplicate on: the same registration of the same request always gets the same one.
     */
    static String eventId(RegisteredModel model, String inputDigest, String profile, String requestDigest, Topic topic) {
        return RequestIdentity.eventId(model.modelId(), model.version(), inputDigest, profile, requestDigest,
                topic.eventType());
    }

    private static String chainText(List<EventData.PlanStep> steps) {
        return String.join(" -> ", steps.stream().map(step -> step.plugin()).toList());
    }

    /** The profile as applied and the plan: with the input digest, what makes a result the same result. */
    static String planDigest(HardwareProfile profile, List<EventData.PlanStep> plan) {
        return RequestIdentity.planDigest(profile, entries(plan));
    }

    /** A result is published only when the whole plan ran and the output runs in ONNX Runtime. */
    static void checkUsable(CompressionReport report) {
        List<String> failedSteps = report.steps().stream().filter(step -> !step.status().equals("done"))
                .map(step -> "step " + step.index() + " " + step.plugin() + " failed: " + step.error().orElse("no reason"))
                .toList();
        if (!failedSteps.isEmpty()) {
            throw new JobFailure(Stage.COMPRESS, false, String.join("; ", failedSteps));
        }
        if (!report.fidelity().runsInOnnxRuntime()) {
            throw new JobFailure(Stage.COMPRESS, false, "the compressed model does not run in ONNX Runtime: "
                    + report.fidelity().unavailable().orElse("no reason given"));
        }
    }

    private static List<EventData.PlanStep> steps(List<CompressionReport.PlanEntry> plan) {
        return plan.stream().map(EventData.PlanStep::of).toList();
    }

    /** The event's plan steps as the engine's plan entries: the same fields, so the same canonical text. */
    private static List<CompressionReport.PlanEntry> entries(List<EventData.PlanStep> plan) {
        return plan.stream().map(step -> new CompressionReport.PlanEntry(step.plugin(), step.version(), step.options()))
                .toList();
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    private static long folderSize(Path folder) {
        try (Stream<Path> files = Files.walk(folder)) {
            return files.filter(Files::isRegularFile).mapToLong(Compressor::size).sum();
        } catch (IOException | UncheckedIOException e) {
            return 0;
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

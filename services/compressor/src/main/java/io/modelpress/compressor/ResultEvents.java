package io.modelpress.compressor;

import io.modelpress.engine.CompressionReport;
import io.modelpress.spi.HardwareProfile;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** The result and benchmark events of one model and profile, built from the engine's report. */
final class ResultEvents {

    private final RegisteredModel model;
    private final boolean timingEnabled;

    /**
     * @param model the registered model the events are about
     * @param timingEnabled whether the service times models (else the benchmark says it was switched off)
     */
    ResultEvents(RegisteredModel model, boolean timingEnabled) {
        this.model = model;
        this.timingEnabled = timingEnabled;
    }

    /**
     * @param folder the content-addressed folder the files were stored in
     * @param files the names of the files stored there
     * @param reportName the name of this request's report among them
     */
    EventData.CompressionResult result(Compressor.Input input, HardwareProfile profile, CompressionReport report,
            Compressor.Known known, EventData.Choice choice, S3Location folder, List<String> files, String reportName) {
        String base = folder.toString();
        CompressionReport.ModelFacts original = report.original();
        CompressionReport.ModelFacts compressed = report.compressed();
        CompressionReport.FidelityReport fidelity = report.fidelity();
        return new EventData.CompressionResult(model.modelId(), model.version(), profile.id(), report.status(), false,
                input.digest(), known.plan().orElseThrow(), known.planDigest().orElseThrow(),
                known.requestDigest().orElseThrow(), choice,
                new EventData.Input(model.artifactUri(), input.digest(), input.bytes()),
                new EventData.Artifact(base + compressed.file(), compressed.dataFile().map(name -> base + name),
                        base + reportName, compressed.digest(), compressed.bytes(), files),
                new EventData.Sizes(original.bytes(), compressed.bytes(), report.gains().sizeRatio(),
                        report.gains().bytesSaved(), original.parameters(), compressed.parameters(),
                        report.gains().parameterRatio(), compressed.packagedBytes(), report.gains().packagedSizeRatio()),
                budgets(profile, compressed), report.hint(), EventData.Judging.of(report.judging()),
                new EventData.Fidelity(fidelity.data(), fidelity.runsInOnnxRuntime(),
                        fidelity.outputs().stream().map(EventData.FidelityOutput::of).toList(), fidelity.unavailable()),
                accuracy(report), calibration(input),
                report.steps().stream().map(step -> new EventData.Step(step.index(), step.plugin(), step.version(),
                        step.status(), step.changes().size(), step.skipped().size(), step.millis())).toList(),
                model.labels(), report.totalMillis(), Instant.now().toString());
    }

    EventData.Benchmark benchmark(Compressor.Input input, HardwareProfile profile, CompressionReport report,
            Compressor.Known known) {
        return new EventData.Benchmark(model.modelId(), model.version(), profile.id(), false, input.digest(),
                known.plan().orElseThrow(), known.planDigest().orElseThrow(), known.requestDigest().orElseThrow(),
                "report", EventData.ModelFacts.of(report.original()), EventData.ModelFacts.of(report.compressed()),
                new EventData.Ratios(report.gains().sizeRatio(), report.gains().parameterRatio()),
                report.fidelity().outputs().stream().map(EventData.FidelityOutput::of).toList(),
                report.fidelity().data(), EventData.Latency.of(report.benchmark(), timingEnabled),
                report.environment(), Instant.now().toString());
    }

    /** The size budget as applied, checked against the stored model; latency and memory are in the planner's choice. */
    private static Optional<EventData.Budgets> budgets(HardwareProfile profile, CompressionReport.ModelFacts compressed) {
        if (profile.sizeBudgetBytes().isEmpty()) {
            return Optional.empty();
        }
        long limit = profile.sizeBudgetBytes().getAsLong();
        return Optional.of(new EventData.Budgets(Optional.of(new EventData.SizeBudget(limit, compressed.bytes(),
                compressed.bytes() <= limit))));
    }

    private EventData.Accuracy accuracy(CompressionReport report) {
        if (report.accuracy().isPresent()) {
            return new EventData.Accuracy(true, Optional.empty(), model.evaluationDataUri(),
                    Optional.of(EventData.AccuracyFigures.of(report.accuracy().get())));
        }
        return new EventData.Accuracy(false, Optional.of(model.evaluationDataUri().isPresent()
                ? "the evaluation data has no labels or the model no score output to compare"
                : "no evaluation data was given; fidelity against the original is measured instead"),
                model.evaluationDataUri(), Optional.empty());
    }

    private EventData.Calibration calibration(Compressor.Input input) {
        boolean used = input.calibration().isPresent();
        return new EventData.Calibration(used, used ? Optional.empty() : Optional.of("no calibration data was given:"
                + " plugins ran without it and fidelity was measured on generated inputs"), model.calibrationDataUri());
    }
}

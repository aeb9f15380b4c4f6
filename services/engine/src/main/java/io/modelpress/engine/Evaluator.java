package io.modelpress.engine;

import io.modelpress.inference.Accuracy;
import io.modelpress.inference.BenchmarkSettings;
import io.modelpress.inference.Benchmarker;
import io.modelpress.inference.Fidelity;
import io.modelpress.inference.InputGenerator;
import io.modelpress.inference.ModelBenchmark;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.inference.RunnerOptions;
import io.modelpress.model.ModelException;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.TensorData;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * Measures a compressed model against its original on the same inputs: fidelity of every
 * output, accuracy on labelled data, and speed side by side. Every figure is measured here, in
 * ONNX Runtime; none is assumed.
 */
public final class Evaluator {

    /** Samples compared when no data is given. */
    public static final int GENERATED_SAMPLES = 32;
    static final long GENERATED_SEED = 20261125L;

    /**
     * Lengths given to the symbolic dims of generated inputs, tried in turn until the original runs:
     * some models need more than a short sequence (an audio window, a padding wider than 32).
     */
    private static final int[] GENERATED_LENGTHS = {32, 512, 4096};

    private Evaluator() {
    }

    /**
     * What to measure on.
     *
     * @param calibration representative inputs for fidelity; generated from the declared inputs when empty
     * @param evaluation labelled data for accuracy, if any
     * @param benchmark how to time the models; empty to skip timing
     * @param batchSize rows per generated sample and per benchmark batch
     * @param indexBounds for generated inputs: integer inputs that index a table, with its length
     *     (see {@link InputGenerator#indexBounds})
     */
    public record Data(Optional<CalibrationData> calibration, Optional<CalibrationData> evaluation,
            Optional<BenchmarkSettings> benchmark, int batchSize, Map<String, Long> indexBounds) {

        public Data {
            indexBounds = Map.copyOf(indexBounds);
        }

        public Data(Optional<CalibrationData> calibration, Optional<CalibrationData> evaluation,
                Optional<BenchmarkSettings> benchmark, int batchSize) {
            this(calibration, evaluation, benchmark, batchSize, Map.of());
        }

        /** The same data, generated inputs drawing the named integer inputs below these bounds. */
        public Data withIndexBounds(Map<String, Long> bounds) {
            return new Data(calibration, evaluation, benchmark, batchSize, bounds);
        }

        public static Data none() {
            return new Data(Optional.empty(), Optional.empty(), Optional.empty(), 1);
        }
    }

    public static CompressionReport.FidelityReport fidelity(Path original, Path compressed, Data data) {
        try (OrtRunner expected = OrtRunner.open(original, RunnerOptions.DEFAULT)) {
            try (OrtRunner actual = OrtRunner.open(compressed, RunnerOptions.DEFAULT)) {
                Inputs inputs = inputs(expected, data);
                try {
                    List<OutputFidelity> outputs = Fidelity.compare(expected, SelectedInputs.adapt(actual), inputs.samples());
                    return new CompressionReport.FidelityReport(inputs.description(), true, outputs, Optional.empty());
                } catch (ModelException e) {
                    return new CompressionReport.FidelityReport(inputs.description(), true, List.of(),
                            Optional.of("not measured: " + e.getMessage()));
                }
            } catch (ModelException e) {
                return new CompressionReport.FidelityReport("none", false, List.of(), Optional.of(e.getMessage()));
            }
        } catch (ModelException e) {
            return new CompressionReport.FidelityReport("none", false, List.of(),
                    Optional.of("not measured: the original model does not load in ONNX Runtime: " + e.getMessage()));
        }
    }

    /** Accuracy of both models on the labelled data, when there is some. */
    public static Optional<CompressionReport.AccuracyReport> accuracy(Path original, Path compressed, Data data) {
        if (data.evaluation().isEmpty()) {
            return Optional.empty();
        }
        CalibrationData evaluation = data.evaluation().get();
        try (OrtRunner before = OrtRunner.open(original, RunnerOptions.DEFAULT);
                OrtRunner after = OrtRunner.open(compressed, RunnerOptions.DEFAULT)) {
            Accuracy expected = Accuracy.evaluate(before, evaluation);
            Accuracy actual = Accuracy.evaluate(SelectedInputs.adapt(after), evaluation);
            return Optional.of(new CompressionReport.AccuracyReport(expected.output(), expected.examples(),
                    expected.top1(), actual.top1(), expected.top5(), actual.top5(), 100 * (expected.top1() - actual.top1())));
        }
    }

    /**
     * Fails fast, before any compression, when labelled data does not fit the model's scores:
     * the first sample is scored on the original.
     *
     * @throws EngineException naming the mismatch
     */
    public static void checkLabels(Path original, CalibrationData evaluation) {
        CalibrationData first = CalibrationData.of(List.of(evaluation.sample(0)),
                evaluation.labels(0).map(List::of).orElse(List.of()));
        try (OrtRunner runner = OrtRunner.open(original, RunnerOptions.DEFAULT)) {
            Accuracy.evaluate(runner, first);
        } catch (ModelException e) {
            throw new EngineException(e.getMessage(), e);
        }
    }

    /**
     * Both models timed side by side, when asked for, on this host's CPU provider; the report says
     * so when {@code targetProvider}, the profile's, is another.
     */
    public static Optional<CompressionReport.BenchmarkReport> benchmark(Path original, Path compressed, Data data,
            String targetProvider) {
        if (data.benchmark().isEmpty()) {
            return Optional.empty();
        }
        BenchmarkSettings settings = data.benchmark().get();
        Map<String, TensorData> batch;
        String description;
        try (OrtRunner runner = OrtRunner.open(original, RunnerOptions.DEFAULT)) {
            Inputs inputs = inputs(runner, new Data(data.calibration(), Optional.empty(), Optional.empty(), data.batchSize(),
                    data.indexBounds()));
            batch = inputs.samples().get(0);
            description = inputs.description();
        }
        Map<String, Path> models = new LinkedHashMap<>();
        models.put("original", original);
        models.put("compressed", compressed);
        List<ModelBenchmark> results;
        try {
            results = Benchmarker.compare(models, batch, settings);
        } catch (ModelException | LinkageError e) {
            return Optional.of(CompressionReport.BenchmarkReport.unavailable(settings, "not measured: " + e.getMessage()));
        }
        ModelBenchmark before = results.get(0);
        ModelBenchmark after = results.get(1);
        Optional<String> note = Benchmarker.timesFor(targetProvider) ? Optional.empty()
                : Optional.of("timed on this host's ONNX Runtime CPU provider while the profile targets '" + targetProvider
                        + "': the speed-up is this host's, not the target's");
        return Optional.of(new CompressionReport.BenchmarkReport(Optional.of(before), Optional.of(after),
                Math.round(1000 * before.p50Millis() / after.p50Millis()) / 1000.0, settings,
                "first sample of the " + description, Benchmarker.EXECUTION_PROVIDER, note, Optional.empty()));
    }

    /** The samples a model is judged on, and how they were made. */
    public record Inputs(List<Map<String, TensorData>> samples, String description) {
    }

    /** The judging samples for this data: the calibration samples, or inputs generated for the original. */
    public static Inputs inputs(OrtRunner runner, Data data) {
        if (data.calibration().isPresent()) {
            CalibrationData calibration = data.calibration().get();
            return new Inputs(IntStream.range(0, calibration.size()).mapToObj(calibration::sample).toList(),
                    "real data: " + calibration.size() + " samples");
        }
        for (int length : GENERATED_LENGTHS) {
            Inputs generated = generated(runner, data, length);
            try {
                runner.run(generated.samples().get(0));
                return generated;
            } catch (ModelException tooShortPerhaps) {
                // try longer; if none runs, the shortest is reported with the original's failure
            }
        }
        return generated(runner, data, GENERATED_LENGTHS[0]);
    }

    private static Inputs generated(OrtRunner runner, Data data, int length) {
        InputGenerator generator = new InputGenerator(data.batchSize(), length).withIndexBounds(data.indexBounds());
        String indices = data.indexBounds().isEmpty() ? "" : "; " + String.join(", ", data.indexBounds().keySet())
                + " drawn over the rows of the table each indexes";
        return new Inputs(generator.generate(runner.inputSpecs(), GENERATED_SAMPLES, GENERATED_SEED),
                "generated inputs: " + GENERATED_SAMPLES + " samples from the declared input types and shapes (symbolic "
                        + "dims: batch " + data.batchSize() + ", others " + length + indices + "), seed " + GENERATED_SEED);
    }
}

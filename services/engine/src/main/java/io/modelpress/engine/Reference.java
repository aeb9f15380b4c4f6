package io.modelpress.engine;

import io.modelpress.inference.Accuracy;
import io.modelpress.inference.Fidelity;
import io.modelpress.inference.OrtRunner;
import io.modelpress.inference.OutputFidelity;
import io.modelpress.inference.RunnerOptions;
import io.modelpress.model.ModelException;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.ModelRunner;
import io.modelpress.spi.TensorData;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The original model as every candidate of a plan is judged against it: its session, the judging
 * inputs and its outputs on them, each computed once per plan rather than once per candidate.
 *
 * <p>A candidate is first judged on a probe, the first {@link #PROBE_SAMPLES} judging samples in
 * their documented order; when the probe alone shows that the candidate cannot meet the budget on
 * all the judging data (the check is the planner's, and must only say so when no remaining samples
 * could change the verdict), it is not judged further. A candidate that passes the probe is judged
 * on all the judging data, the probe included. Timing is left to the caller.
 */
public final class Reference implements Measurement, AutoCloseable {

    /** Judging samples in the probe. */
    public static final int PROBE_SAMPLES = 8;

    /** Says why a candidate cannot meet the budget, from its figures on the probe, or nothing. */
    @FunctionalInterface
    public interface ProbeCheck {
        Optional<String> cannotMeet(List<OutputFidelity> probe, int probed, int total);
    }

    private final OrtRunner original;
    private final Recorded expected;
    private final List<Map<String, TensorData>> samples;
    private final String description;
    private final Optional<CalibrationData> evaluation;
    private final ProbeCheck check;
    private final Optional<String> unavailable;
    private Accuracy originalAccuracy;
    private Optional<String> stoppedOnProbe = Optional.empty();

    private Reference(OrtRunner original, Evaluator.Inputs inputs, Optional<CalibrationData> evaluation,
            ProbeCheck check, Optional<String> unavailable) {
        this.original = original;
        this.unavailable = unavailable;
        this.expected = new Recorded(original);
        this.samples = List.copyOf(inputs.samples());
        this.description = inputs.description();
        this.evaluation = evaluation;
        this.check = check;
    }

    /** A reference; when the original does not load in ONNX Runtime, every measure says so and judges nothing. */
    public static Reference open(Path original, Evaluator.Data data, ProbeCheck check) {
        Objects.requireNonNull(check, "check is null");
        try {
            OrtRunner runner = OrtRunner.open(original, RunnerOptions.DEFAULT);
            return new Reference(runner, Evaluator.inputs(runner, data), data.evaluation(), check, Optional.empty());
        } catch (ModelException e) {
            return new Reference(null, new Evaluator.Inputs(List.of(), "none"), data.evaluation(), check,
                    Optional.of("not measured: the original model does not load in ONNX Runtime: " + e.getMessage()));
        }
    }

    /** Judging samples every candidate that passes the probe is compared on. */
    public int samples() {
        return samples.size();
    }

    /** Why the last candidate measured was stopped after the probe; empty when it was judged in full. */
    public Optional<String> stoppedOnProbe() {
        return stoppedOnProbe;
    }

    @Override
    public Measured measure(Path originalFile, Path compressed, Evaluator.Data data, String executionProvider,
            ProgressListener listener) {
        stoppedOnProbe = Optional.empty();
        if (unavailable.isPresent()) {
            return new Measured(new CompressionReport.FidelityReport("none", false, List.of(), unavailable),
                    Optional.empty(), Optional.empty());
        }
        try (OrtRunner actual = OrtRunner.open(compressed, RunnerOptions.DEFAULT)) {
            // kept per sample too, so the probe's samples are not run again when all are judged
            ModelRunner adapted = new Recorded(SelectedInputs.adapt(actual));
            try {
                if (samples.size() > PROBE_SAMPLES) {
                    listener.progress("verify", 0.85, "probe: the first " + PROBE_SAMPLES + " judging samples");
                    List<OutputFidelity> probe = Fidelity.compare(expected, adapted, samples.subList(0, PROBE_SAMPLES));
                    stoppedOnProbe = check.cannotMeet(probe, PROBE_SAMPLES, samples.size());
                    if (stoppedOnProbe.isPresent()) {
                        return new Measured(new CompressionReport.FidelityReport(description + "; judged on the first "
                                + PROBE_SAMPLES + " only (the probe), which already rule it out", true, probe,
                                Optional.empty()), Optional.empty(), Optional.empty());
                    }
                }
                listener.progress("verify", 0.88, "fidelity on all " + samples.size() + " judging samples");
                List<OutputFidelity> outputs = Fidelity.compare(expected, adapted, samples);
                return new Measured(new CompressionReport.FidelityReport(description, true, outputs, Optional.empty()),
                        accuracy(adapted), Optional.empty());
            } catch (ModelException e) {
                return new Measured(new CompressionReport.FidelityReport(description, true, List.of(),
                        Optional.of("not measured: " + e.getMessage())), Optional.empty(), Optional.empty());
            }
        } catch (ModelException e) {
            return new Measured(new CompressionReport.FidelityReport("none", false, List.of(),
                    Optional.of(e.getMessage())), Optional.empty(), Optional.empty());
        }
    }

    private Optional<CompressionReport.AccuracyReport> accuracy(ModelRunner actual) {
        if (evaluation.isEmpty()) {
            return Optional.empty();
        }
        if (originalAccuracy == null) {
            originalAccuracy = Accuracy.evaluate(original, evaluation.get());
        }
        Accuracy after = Accuracy.evaluate(actual, evaluation.get());
        Accuracy before = originalAccuracy;
        return Optional.of(new CompressionReport.AccuracyReport(before.output(), before.examples(), before.top1(),
                after.top1(), before.top5(), after.top5(), 100 * (before.top1() - after.top1())));
    }

    @Override
    public void close() {
        if (original != null) {
            original.close();
        }
    }

    /** A model's outputs, each sample run once and kept: the same inputs go to every candidate. */
    private static final class Recorded implements ModelRunner {
        private final ModelRunner runner;
        private final Map<Map<String, TensorData>, Map<String, TensorData>> outputs = new IdentityHashMap<>();

        Recorded(ModelRunner runner) {
            this.runner = runner;
        }

        @Override
        public List<String> inputNames() {
            return runner.inputNames();
        }

        @Override
        public List<String> outputNames() {
            return runner.outputNames();
        }

        @Override
        public Map<String, TensorData> run(Map<String, TensorData> inputs) {
            return outputs.computeIfAbsent(inputs, runner::run);
        }

        @Override
        public void close() {
            // the reference closes the session
        }
    }
}

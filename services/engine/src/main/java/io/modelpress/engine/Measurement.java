package io.modelpress.engine;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * How a chain's result is measured against the original once the chain has run. A single run is
 * measured in full ({@link #FULL}); the planner measures its trials against a reference it computes
 * once per plan, and may stop early on a candidate that cannot meet its budget.
 */
public interface Measurement {

    /** What was measured; an empty accuracy or benchmark was not asked for or not possible. */
    record Measured(CompressionReport.FidelityReport fidelity, Optional<CompressionReport.AccuracyReport> accuracy,
            Optional<CompressionReport.BenchmarkReport> benchmark) {

        public Measured {
            Objects.requireNonNull(fidelity, "fidelity is null");
            Objects.requireNonNull(accuracy, "accuracy is null");
            Objects.requireNonNull(benchmark, "benchmark is null");
        }
    }

    Measured measure(Path original, Path compressed, Evaluator.Data data, String executionProvider,
            ProgressListener listener);

    /** Fidelity, accuracy on labelled data and, when asked, both models timed side by side. */
    Measurement FULL = (original, compressed, data, provider, listener) -> {
        listener.progress("verify", 0.85, "fidelity in ONNX Runtime");
        CompressionReport.FidelityReport fidelity = Evaluator.fidelity(original, compressed, data);
        if (!fidelity.runsInOnnxRuntime()) {
            return new Measured(fidelity, Optional.empty(), Optional.empty());
        }
        listener.progress("verify", 0.9, "accuracy");
        Optional<CompressionReport.AccuracyReport> accuracy = Evaluator.accuracy(original, compressed, data);
        listener.progress("benchmark", 0.93, "original and compressed side by side");
        return new Measured(fidelity, accuracy, Evaluator.benchmark(original, compressed, data, provider));
    };
}

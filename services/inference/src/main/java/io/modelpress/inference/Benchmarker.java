package io.modelpress.inference;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.modelpress.model.ModelException;
import io.modelpress.spi.TensorData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Times models on raw ONNX Runtime sessions, side by side. The input tensors are made once, before any timing, so a
 * timed run is the session's run alone. The models run in the same rounds, one run each per round in an order that
 * rotates every round, so drift of a shared machine hits all of them alike and their ratios mean something. Warm-up
 * rounds are discarded; measured rounds go on until every model's median is stable, within a round and a time cap
 * (see {@link BenchmarkSettings}). Memory is not read from this process, which holds everything else too: each model's
 * session is measured alone in a fresh child process ({@link SessionMemory}), before the timing starts.
 */
public final class Benchmarker {

    /** The ONNX Runtime execution provider that runs the models timed here. */
    public static final String EXECUTION_PROVIDER = "cpu";

    private Benchmarker() {
    }

    /**
     * Whether timings taken here stand for a target that runs on {@code executionProvider}: only
     * when that is the CPU provider too (a GPU or an accelerator runs other kernels at other speeds).
     */
    public static boolean timesFor(String executionProvider) {
        return executionProvider.toLowerCase(Locale.ROOT).replace("executionprovider", "").equals(EXECUTION_PROVIDER);
    }

    /**
     * Measures each model on the same inputs.
     *
     * @param models label → .onnx file (external data beside it)
     * @param inputs one batch of inputs, by input name; each model is given the ones it declares
     * @return one result per model, in the order given
     */
    public static List<ModelBenchmark> compare(Map<String, Path> models, Map<String, TensorData> inputs,
            BenchmarkSettings settings) {
        Objects.requireNonNull(models, "models is null");
        Objects.requireNonNull(inputs, "inputs is null");
        Objects.requireNonNull(settings, "settings is null");
        if (models.isEmpty()) {
            throw new IllegalArgumentException("no models to time");
        }
        int batch = batchSize(inputs);
        List<Optional<Long>> memory = new ArrayList<>();
        for (Path file : models.values()) {
            memory.add(settings.memory() ? sessionPeak(file, batch, settings.threads(), inputs) : Optional.empty());
        }
        Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
        List<Timed> timed = new ArrayList<>();
        try {
            for (Map.Entry<String, TensorData> input : inputs.entrySet()) {
                tensors.put(input.getKey(), OrtRunner.toOrt(OrtEnvironments.shared(), input.getKey(), input.getValue()));
            }
            for (Map.Entry<String, Path> model : models.entrySet()) {
                timed.add(Timed.open(model.getKey(), model.getValue(), settings, tensors));
            }
            runRounds(timed, settings);
            List<ModelBenchmark> results = new ArrayList<>();
            for (int i = 0; i < timed.size(); i++) {
                results.add(timed.get(i).result(batch, memory.get(i), settings.stableWithin()));
            }
            return results;
        } catch (OrtException e) {
            throw new ModelException("cannot hand the inputs to ONNX Runtime: " + OrtRunner.firstLine(e.getMessage()), e);
        } finally {
            timed.forEach(Timed::close);
            tensors.values().forEach(OnnxTensor::close);
        }
    }

    /** Warm-up rounds, then measured rounds until the stop rule of {@link BenchmarkSettings} says enough. */
    private static void runRounds(List<Timed> timed, BenchmarkSettings settings) {
        int n = timed.size();
        for (int round = 0; round < settings.warmup(); round++) {
            for (int slot = 0; slot < n; slot++) {
                timed.get(TimingRounds.modelAt(round, slot, n)).runTimed();
            }
        }
        long deadline = System.nanoTime() + settings.maxSeconds() * 1_000_000_000L;
        for (int round = 0; round < settings.maxRounds(); round++) {
            for (int slot = 0; slot < n; slot++) {
                timed.get(TimingRounds.modelAt(round, slot, n)).timeOneRun();
            }
            if (round + 1 >= settings.minRounds() && (System.nanoTime() > deadline
                    || timed.stream().allMatch(model -> TimingRounds.stable(model.millis, settings.stableWithin())))) {
                return;
            }
        }
    }

    private static Optional<Long> sessionPeak(Path file, int batch, int threads, Map<String, TensorData> inputs) {
        try {
            return Optional.of(SessionMemory.measure(file, batch, threads, Optional.of(inputs)).peakBytes());
        } catch (ModelException e) {
            // Not on Linux, or the child could not run: the timing still stands, the memory figure is absent.
            return Optional.empty();
        }
    }

    /** Rows per run: axis 0 of the first input that has axes (a state or a scalar can come first in a map). */
    static int batchSize(Map<String, TensorData> inputs) {
        return inputs.values().stream().map(TensorData::shape).filter(shape -> shape.length > 0)
                .mapToInt(shape -> (int) shape[0]).findFirst().orElse(1);
    }

    /** One model's session, its inputs and its run times. */
    private static final class Timed implements AutoCloseable {
        private final String label;
        private final OrtSession session;
        private final Map<String, OnnxTensor> inputs;
        private final double loadMillis;
        private final List<Double> millis = new ArrayList<>();

        private Timed(String label, OrtSession session, Map<String, OnnxTensor> inputs, double loadMillis) {
            this.label = label;
            this.session = session;
            this.inputs = inputs;
            this.loadMillis = loadMillis;
        }

        static Timed open(String label, Path file, BenchmarkSettings settings, Map<String, OnnxTensor> tensors) {
            long started = System.nanoTime();
            OrtSession session;
            try (OrtSession.SessionOptions options = RunnerOptions.DEFAULT.withThreads(settings.threads())
                    .toSessionOptions()) {
                session = OrtEnvironments.shared().createSession(file.toAbsolutePath().toString(), options);
            } catch (OrtException e) {
                throw new ModelException("ONNX Runtime cannot load " + file.getFileName() + ": "
                        + OrtRunner.firstLine(e.getMessage()), e);
            }
            double loadMillis = (System.nanoTime() - started) / 1e6;
            Map<String, OnnxTensor> declared = new LinkedHashMap<>();
            for (String name : session.getInputNames()) {
                OnnxTensor tensor = tensors.get(name);
                if (tensor == null) {
                    closeQuietly(session);
                    throw new ModelException(label + " (" + file.getFileName() + ") declares input '" + name
                            + "', which the timing inputs do not have (they have " + tensors.keySet() + ")");
                }
                declared.put(name, tensor);
            }
            return new Timed(label, session, declared, loadMillis);
        }

        void timeOneRun() {
            millis.add(runTimed() / 1e6);
        }

        /** One run; its nanoseconds: the session's run alone, not the release of its outputs. */
        long runTimed() {
            OrtSession.Result result;
            long took;
            try {
                long started = System.nanoTime();
                result = session.run(inputs);
                took = System.nanoTime() - started;
            } catch (OrtException e) {
                throw new ModelException("ONNX Runtime failed to run " + label + ": " + OrtRunner.firstLine(e.getMessage()), e);
            }
            result.close();
            return took;
        }

        ModelBenchmark result(int batch, Optional<Long> memory, double within) {
            double[] sorted = TimingRounds.sorted(millis);
            double p50 = TimingRounds.percentile(sorted, 0.50);
            double mean = millis.stream().mapToDouble(Double::doubleValue).average().orElse(0);
            return new ModelBenchmark(label, loadMillis, memory, batch, TimingRounds.percentile(sorted, 0.10), p50,
                    TimingRounds.percentile(sorted, 0.90), TimingRounds.percentile(sorted, 0.99), mean,
                    p50 > 0 ? batch * 1000 / p50 : 0, sorted.length, TimingRounds.stable(millis, within));
        }

        @Override
        public void close() {
            closeQuietly(session);
        }

        private static void closeQuietly(OrtSession session) {
            try {
                session.close();
            } catch (OrtException ignored) {
                // closing frees native memory; a failure leaves nothing to do
            }
        }
    }
}

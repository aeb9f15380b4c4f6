package io.modelpress.inference;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
import io.modelpress.model.ModelException;
import io.modelpress.spi.TensorData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Measures models in ONNX Runtime through DJL's ONNX Runtime engine: session load time, memory
 * and latency percentiles after warm-up. Several models are measured side by side in one
 * process, their runs interleaved, so that drift of the machine hits all of them alike and the
 * ratios mean something.
 */
public final class Benchmarker {

    private static final String ENGINE = "OnnxRuntime";

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
     * @param inputs one batch of inputs, by input name
     * @return one result per model, in the order given
     */
    public static List<ModelBenchmark> compare(Map<String, Path> models, Map<String, TensorData> inputs,
            BenchmarkSettings settings) {
        OrtEnvironments.shared();
        List<Session> sessions = new ArrayList<>();
        try {
            for (Map.Entry<String, Path> entry : models.entrySet()) {
                sessions.add(Session.open(entry.getKey(), entry.getValue(), settings, inputs));
            }
            for (int i = 0; i < settings.iterations(); i++) {
                for (Session session : sessions) {
                    session.timeOneRun();
                }
            }
            int batch = sessions.get(0).batchSize();
            return sessions.stream().map(session -> session.result(batch)).toList();
        } finally {
            sessions.forEach(Session::close);
        }
    }

    /** One model's DJL session and what was measured of it. */
    private static final class Session implements AutoCloseable {
        private final String label;
        private final Model model;
        private final Predictor<NDList, NDList> predictor;
        private final NDManager manager;
        private final Map<String, TensorData> inputs;
        private final double loadMillis;
        private final List<Double> millis = new ArrayList<>();
        private long memoryBytes;

        private Session(String label, Model model, Predictor<NDList, NDList> predictor, NDManager manager,
                Map<String, TensorData> inputs, double loadMillis) {
            this.label = label;
            this.model = model;
            this.predictor = predictor;
            this.manager = manager;
            this.inputs = inputs;
            this.loadMillis = loadMillis;
        }

        static Session open(String label, Path file, BenchmarkSettings settings, Map<String, TensorData> inputs) {
            long rssBefore = residentBytes();
            long started = System.nanoTime();
            Model model = Model.newInstance(label, Device.cpu(), ENGINE);
            try {
                Map<String, String> options = new LinkedHashMap<>();
                // DJL applies the intra-op count only when the inter-op count is given too.
                options.put("interOpNumThreads", "1");
                options.put("intraOpNumThreads", Integer.toString(settings.threads()));
                options.put("optLevel", "ALL_OPT");
                model.load(file.toAbsolutePath(), null, options);
            } catch (IOException | MalformedModelException | RuntimeException e) {
                model.close();
                throw new ModelException("ONNX Runtime (through DJL) cannot load " + file.getFileName() + ": "
                        + OrtRunner.firstLine(rootMessage(e)), e);
            }
            double loadMillis = (System.nanoTime() - started) / 1e6;
            Predictor<NDList, NDList> predictor = model.newPredictor(new NoopTranslator());
            Session session = new Session(label, model, predictor, model.getNDManager().newSubManager(),
                    inDeclaredOrder(model, inputs), loadMillis);
            for (int i = 0; i < settings.warmup(); i++) {
                session.run();
            }
            session.memoryBytes = Math.max(0, residentBytes() - rssBefore);
            return session;
        }

        void timeOneRun() {
            long started = System.nanoTime();
            run();
            millis.add((System.nanoTime() - started) / 1e6);
        }

        /** The inputs in the order the model declares them (a sample's map has none of its own). */
        private static Map<String, TensorData> inDeclaredOrder(Model model, Map<String, TensorData> inputs) {
            Map<String, TensorData> ordered = new LinkedHashMap<>();
            if (model.describeInput() != null) {
                model.describeInput().keys().stream().filter(inputs::containsKey)
                        .forEach(name -> ordered.put(name, inputs.get(name)));
            }
            ordered.putAll(inputs);
            return ordered;
        }

        /** Rows per run: axis 0 of the first declared input that has axes (a state or a scalar can come first in a map). */
        int batchSize() {
            return inputs.values().stream().map(TensorData::shape).filter(shape -> shape.length > 0)
                    .mapToInt(shape -> (int) shape[0]).findFirst().orElse(1);
        }

        private void run() {
            try (NDManager scope = manager.newSubManager()) {
                NDList list = new NDList();
                for (Map.Entry<String, TensorData> input : inputs.entrySet()) {
                    TensorData value = input.getValue();
                    NDArray array = scope.create(value.data(), new Shape(value.shape()), djlType(value));
                    array.setName(input.getKey());
                    list.add(array);
                }
                predictor.predict(list).close();
            } catch (TranslateException | RuntimeException e) {
                throw new ModelException("ONNX Runtime (through DJL) failed to run " + label + ": "
                        + OrtRunner.firstLine(rootMessage(e)), e);
            }
        }

        ModelBenchmark result(int batch) {
            double[] sorted = millis.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            double p50 = percentile(sorted, 0.50);
            double mean = Arrays.stream(sorted).average().orElse(0);
            return new ModelBenchmark(label, loadMillis, memoryBytes, batch, p50, percentile(sorted, 0.90),
                    percentile(sorted, 0.99), mean, p50 > 0 ? batch * 1000 / p50 : 0, sorted.length);
        }

        @Override
        public void close() {
            predictor.close();
            manager.close();
            model.close();
        }
    }

    static double percentile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        int index = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    private static ai.djl.ndarray.types.DataType djlType(TensorData value) {
        return switch (value.type()) {
            case FLOAT -> ai.djl.ndarray.types.DataType.FLOAT32;
            case DOUBLE -> ai.djl.ndarray.types.DataType.FLOAT64;
            case FLOAT16 -> ai.djl.ndarray.types.DataType.FLOAT16;
            case INT8 -> ai.djl.ndarray.types.DataType.INT8;
            case UINT8 -> ai.djl.ndarray.types.DataType.UINT8;
            case INT32 -> ai.djl.ndarray.types.DataType.INT32;
            case INT64 -> ai.djl.ndarray.types.DataType.INT64;
            case BOOL -> ai.djl.ndarray.types.DataType.BOOLEAN;
            default -> throw new ModelException("inputs of type " + value.type().label() + " cannot be benchmarked");
        };
    }

    /** Resident memory of this process (Linux), or 0 where it cannot be read. */
    static long residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    private static String rootMessage(Throwable error) {
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }
}

package io.modelpress.inference;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import io.modelpress.model.DataType;
import io.modelpress.model.LoadLimits;
import io.modelpress.model.ModelException;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.TensorData;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The child side of {@link SessionMemory}: run in a fresh JVM, it opens one ONNX Runtime session on a model,
 * runs one inference and prints how much the process's peak resident memory grew doing so, on one line
 * {@code session-memory peak=<bytes> fixed=<bytes>}.
 *
 * <p>The peak is the kernel's high-water mark (VmHWM), reset through {@code /proc/self/clear_refs} just before
 * the session is created, so it sees transient allocations that are freed again before the run ends (graph
 * optimisation copies, activations). Everything of the JVM's own (heap, the model parsed for its inputs) and the
 * runtime's library pages (a first session on the same model, left open, touches its kernels' code) is
 * resident before the reset; the parent sets glibc's mmap threshold so that large blocks freed by one session
 * are returned to the system rather than reused by the next. {@code fixed} is the same figure for a session of
 * a one-node graph, taken first: what any model costs in ONNX Runtime, which the target's runtime need not pay.
 */
public final class SessionMemoryProbe {

    static final String PREFIX = "session-memory ";

    private SessionMemoryProbe() {
    }

    /**
     * @param args the model file, the batch size, the intra-op threads (0: the runtime's choice) and optionally a
     *     file of inputs written by {@link #writeInputs}
     */
    public static void main(String[] args) {
        try {
            if (args.length != 3 && args.length != 4) {
                throw new IllegalArgumentException("usage: SessionMemoryProbe <model.onnx> <batch> <threads> [inputs]");
            }
            Optional<Map<String, TensorData>> given = args.length == 4 ? Optional.of(readInputs(Path.of(args[3])))
                    : Optional.empty();
            long[] figures = measure(Path.of(args[0]), Integer.parseInt(args[1]), Integer.parseInt(args[2]), given);
            System.out.println(PREFIX + "peak=" + figures[0] + " fixed=" + figures[1]);
            System.exit(0);
        } catch (Exception | LinkageError e) {
            System.out.println(PREFIX + "error=" + String.valueOf(e.getMessage()).lines().findFirst().orElse(
                    e.getClass().getSimpleName()));
            System.exit(1);
        }
    }

    private static long[] measure(Path file, int batch, int threads, Optional<Map<String, TensorData>> given)
            throws OrtException, IOException {
        OrtEnvironment environment = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
        OnnxModel model = OnnxModel.load(file, LoadLimits.DEFAULT);
        byte[] trivial = identityModel();
        // A first session brings the runtime's code and its one-time state in: neither belongs to any model.
        try (OrtSession.SessionOptions options = options(threads);
                OrtSession warm = environment.createSession(trivial, options)) {
            runOnce(environment, warm, Map.of("x", scalar()));
            System.gc();

            resetPeak();
            long before = resident();
            long fixed;
            try (OrtSession empty = environment.createSession(trivial, options)) {
                runOnce(environment, empty, Map.of("x", scalar()));
                fixed = Math.max(0, peak() - before);
            }
            // A first session on the model itself, kept open, pages in the code of its kernels (file-backed pages
            // count as resident) and holds on to what it allocated, so the measured one reuses nothing of it.
            try (OrtSession first = environment.createSession(file.toString(), options)) {
                Map<String, TensorData> inputs;
                if (given.isPresent()) {
                    inputs = given.get();
                    runOnce(environment, first, inputs);
                } else {
                    inputs = runnableInputs(environment, first, model, batch);
                }
                model = null; // its heap pages stay resident; the measured window allocates little on the heap
                System.gc();

                resetPeak();
                before = resident();
                try (OrtSession session = environment.createSession(file.toString(), options)) {
                    runOnce(environment, session, inputs);
                    return new long[] {Math.max(0, peak() - before), fixed};
                }
            }
        }
    }

    /**
     * Options as a deployment would size them: no arena, so that what is measured is what the model asks for
     * rather than the arena's growth steps; the memory pattern (one planned block for activations) stays on.
     */
    private static OrtSession.SessionOptions options(int threads) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
        options.setCPUArenaAllocator(false);
        options.setIntraOpNumThreads(Math.max(1, threads));
        options.setInterOpNumThreads(1);
        return options;
    }

    private static void runOnce(OrtEnvironment environment, OrtSession session, Map<String, TensorData> inputs)
            throws OrtException {
        Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, TensorData> input : inputs.entrySet()) {
                tensors.put(input.getKey(), OrtRunner.toOrt(environment, input.getKey(), input.getValue()));
            }
            session.run(tensors).close();
        } finally {
            tensors.values().forEach(OnnxTensor::close);
        }
    }

    /**
     * Generated inputs the model runs on, as the planner's generated inputs are made: symbolic dims other than the
     * batch at the shortest of {@link SessionMemory#SYMBOLIC_DIMS} that runs (audio models refuse short windows).
     */
    private static Map<String, TensorData> runnableInputs(OrtEnvironment environment, OrtSession session,
            OnnxModel model, int batch) throws OrtException {
        OrtException first = null;
        for (int length : SessionMemory.SYMBOLIC_DIMS) {
            Map<String, TensorData> inputs = inputs(model, batch, length);
            try {
                runOnce(environment, session, inputs);
                return inputs;
            } catch (OrtException e) {
                first = first == null ? e : first;
            }
        }
        throw first;
    }

    private static Map<String, TensorData> inputs(OnnxModel model, int batch, int length) {
        GraphProto graph = model.proto().getGraph();
        Set<String> initializers = new HashSet<>();
        graph.getInitializerList().forEach(tensor -> initializers.add(tensor.getName()));
        Map<String, InputSpec> specs = new LinkedHashMap<>();
        for (ValueInfoProto input : graph.getInputList()) {
            if (initializers.contains(input.getName())) {
                continue;
            }
            if (!input.getType().hasTensorType()) {
                throw new ModelException("input '" + input.getName() + "' is not a tensor; only tensor inputs can be measured");
            }
            TypeProto.Tensor tensor = input.getType().getTensorType();
            List<TensorShapeProto.Dimension> dims = tensor.getShape().getDimList();
            long[] shape = new long[dims.size()];
            List<String> names = new ArrayList<>();
            for (int d = 0; d < shape.length; d++) {
                shape[d] = dims.get(d).hasDimValue() && dims.get(d).getDimValue() > 0 ? dims.get(d).getDimValue() : -1;
                names.add(dims.get(d).getDimParam());
            }
            specs.put(input.getName(), new InputSpec(input.getName(), DataType.of(tensor.getElemType()), shape, names));
        }
        InputGenerator generator = new InputGenerator(batch, length)
                .withIndexBounds(InputGenerator.indexBounds(model));
        return generator.generate(specs, 1, 1).get(0);
    }

    /** Writes named tensors for {@link #readInputs}: count, then name, type, dims and bytes of each. */
    static void writeInputs(Path file, Map<String, TensorData> inputs) throws IOException {
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
            out.writeInt(inputs.size());
            for (Map.Entry<String, TensorData> input : inputs.entrySet()) {
                TensorData tensor = input.getValue();
                out.writeUTF(input.getKey());
                out.writeUTF(tensor.type().name());
                long[] shape = tensor.shape();
                out.writeInt(shape.length);
                for (long dim : shape) {
                    out.writeLong(dim);
                }
                ByteBuffer data = tensor.data();
                byte[] bytes = new byte[data.remaining()];
                data.get(bytes);
                out.writeInt(bytes.length);
                out.write(bytes);
            }
        }
    }

    static Map<String, TensorData> readInputs(Path file) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            Map<String, TensorData> inputs = new LinkedHashMap<>();
            int count = in.readInt();
            for (int i = 0; i < count; i++) {
                String name = in.readUTF();
                DataType type = DataType.valueOf(in.readUTF());
                long[] shape = new long[in.readInt()];
                for (int d = 0; d < shape.length; d++) {
                    shape[d] = in.readLong();
                }
                byte[] bytes = new byte[in.readInt()];
                in.readFully(bytes);
                inputs.put(name, new TensorData(type, shape, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)));
            }
            return inputs;
        }
    }

    private static TensorData scalar() {
        ByteBuffer data = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, 1f);
        return new TensorData(DataType.FLOAT, new long[] {1}, data);
    }

    private static byte[] identityModel() {
        TypeProto type = TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                .setElemType(TensorProto.DataType.FLOAT_VALUE)
                .setShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(1))))
                .build();
        GraphProto graph = GraphProto.newBuilder().setName("identity")
                .addInput(ValueInfoProto.newBuilder().setName("x").setType(type))
                .addOutput(ValueInfoProto.newBuilder().setName("y").setType(type))
                .addNode(NodeProto.newBuilder().setOpType("Identity").addInput("x").addOutput("y"))
                .build();
        return ModelProto.newBuilder().setIrVersion(8)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .setGraph(graph).build().toByteArray();
    }

    /** Makes the kernel's high-water mark start again from the current resident size (Linux 4.0 and later). */
    private static void resetPeak() throws IOException {
        Files.writeString(Path.of("/proc/self/clear_refs"), "5");
    }

    private static long resident() throws IOException {
        return status("VmRSS:");
    }

    private static long peak() throws IOException {
        return status("VmHWM:");
    }

    private static long status(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("/proc/self/status has no " + field);
    }
}

package io.modelpress.inference;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.modelpress.model.DataType;
import io.modelpress.model.ModelException;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.SaveOptions;
import io.modelpress.spi.ModelRunner;
import io.modelpress.spi.TensorData;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A model running in ONNX Runtime on the CPU. */
public final class OrtRunner implements ModelRunner {

    private final OrtEnvironment environment = OrtEnvironments.shared();
    private final OrtSession session;
    private final List<String> inputNames;
    private final List<String> outputNames;

    private OrtRunner(OrtSession session) throws OrtException {
        this.session = session;
        this.inputNames = List.copyOf(session.getInputNames());
        this.outputNames = List.copyOf(session.getOutputNames());
    }

    /** Opens a session on an in-memory model with default session options. */
    public static OrtRunner open(OnnxModel model) {
        return open(model, RunnerOptions.DEFAULT);
    }

    public static OrtRunner open(OnnxModel model, RunnerOptions options) {
        return open(model, options, Optional.empty());
    }

    /**
     * Opens a session on an in-memory model; one over {@link SaveOptions#INLINE_LIMIT} is first
     * written to a new folder under {@code stagingFolder} (else {@code java.io.tmpdir}), removed as
     * soon as ONNX Runtime has read it.
     */
    public static OrtRunner open(OnnxModel model, RunnerOptions options, Optional<Path> stagingFolder) {
        try (OrtSession.SessionOptions sessionOptions = options.toSessionOptions()) {
            OrtEnvironment environment = OrtEnvironments.shared();
            if (model.serializedSize() < SaveOptions.INLINE_LIMIT) {
                return new OrtRunner(environment.createSession(model.toByteArray(), sessionOptions));
            }
            // Too large for one protobuf buffer: ONNX Runtime reads it from a folder with external data.
            Path folder = stagingFolder.isPresent() ? Files.createTempDirectory(stagingFolder.get(), "ort-")
                    : Files.createTempDirectory("modelpress-ort-");
            try {
                Path file = folder.resolve("model.onnx");
                model.save(file, SaveOptions.external("model.onnx.data"));
                return new OrtRunner(environment.createSession(file.toString(), sessionOptions));
            } finally {
                deleteQuietly(folder);
            }
        } catch (OrtException e) {
            throw new ModelException("ONNX Runtime cannot load the model: " + firstLine(e.getMessage()), e);
        } catch (IOException e) {
            throw new ModelException("cannot stage the model for ONNX Runtime: " + e.getMessage(), e);
        }
    }

    /** Opens a session on a model file, letting ONNX Runtime read its external data itself. */
    public static OrtRunner open(Path modelFile, RunnerOptions options) {
        try (OrtSession.SessionOptions sessionOptions = options.toSessionOptions()) {
            return new OrtRunner(OrtEnvironments.shared().createSession(modelFile.toString(), sessionOptions));
        } catch (OrtException e) {
            throw new ModelException("ONNX Runtime cannot load " + modelFile + ": " + firstLine(e.getMessage()), e);
        }
    }

    @Override
    public List<String> inputNames() {
        return inputNames;
    }

    @Override
    public List<String> outputNames() {
        return outputNames;
    }

    /** Declared input shapes (-1 for symbolic dims) and types, as ONNX Runtime sees them. */
    public Map<String, InputSpec> inputSpecs() {
        try {
            Map<String, InputSpec> specs = new LinkedHashMap<>();
            for (Map.Entry<String, NodeInfo> entry : session.getInputInfo().entrySet()) {
                if (!(entry.getValue().getInfo() instanceof TensorInfo info)) {
                    throw new ModelException("input '" + entry.getKey() + "' is not a tensor; only tensor inputs are supported");
                }
                specs.put(entry.getKey(), new InputSpec(entry.getKey(), dataType(info.onnxType), info.getShape(),
                        List.of(info.getDimensionNames())));
            }
            return specs;
        } catch (OrtException e) {
            throw new ModelException("cannot read the model's inputs: " + firstLine(e.getMessage()), e);
        }
    }

    /** The model's own metadata entries (metadata_props), as the runtime read them. */
    public Map<String, String> metadata() {
        try {
            return Map.copyOf(session.getMetadata().getCustomMetadata());
        } catch (OrtException e) {
            throw new ModelException("cannot read the model's metadata: " + firstLine(e.getMessage()), e);
        }
    }

    @Override
    public Map<String, TensorData> run(Map<String, TensorData> inputs) {
        Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, TensorData> input : inputs.entrySet()) {
                tensors.put(input.getKey(), toOrt(environment, input.getKey(), input.getValue()));
            }
            try (OrtSession.Result result = session.run(tensors)) {
                Map<String, TensorData> outputs = new LinkedHashMap<>();
                for (Map.Entry<String, OnnxValue> output : result) {
                    outputs.put(output.getKey(), fromOrt(output.getKey(), output.getValue()));
                }
                return outputs;
            }
        } catch (OrtException e) {
            throw new ModelException("ONNX Runtime failed to run the model: " + firstLine(e.getMessage()), e);
        } finally {
            tensors.values().forEach(OnnxTensor::close);
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("cannot close an ONNX Runtime session", e);
        }
    }

    static OnnxTensor toOrt(OrtEnvironment environment, String name, TensorData value) throws OrtException {
        OnnxJavaType javaType = switch (value.type()) {
            case FLOAT -> OnnxJavaType.FLOAT;
            case DOUBLE -> OnnxJavaType.DOUBLE;
            case INT8 -> OnnxJavaType.INT8;
            case UINT8 -> OnnxJavaType.UINT8;
            case INT16 -> OnnxJavaType.INT16;
            case INT32 -> OnnxJavaType.INT32;
            case INT64 -> OnnxJavaType.INT64;
            case BOOL -> OnnxJavaType.BOOL;
            case FLOAT16 -> OnnxJavaType.FLOAT16;
            case BFLOAT16 -> OnnxJavaType.BFLOAT16;
            default -> throw new ModelException("input '" + name + "' of type " + value.type().label()
                    + " cannot be passed to ONNX Runtime from Java");
        };
        ByteBuffer direct = ByteBuffer.allocateDirect(value.data().remaining()).order(ByteOrder.nativeOrder());
        direct.put(value.data()).rewind();
        return OnnxTensor.createTensor(environment, direct, value.shape(), javaType);
    }

    private static TensorData fromOrt(String name, OnnxValue value) throws OrtException {
        if (!(value instanceof OnnxTensor tensor)) {
            throw new ModelException("output '" + name + "' is a " + value.getType() + ", not a tensor; only tensor outputs are supported");
        }
        TensorInfo info = tensor.getInfo();
        DataType type = dataType(info.onnxType);
        if (type == DataType.STRING) {
            throw new ModelException("output '" + name + "' holds strings; only numeric outputs are supported");
        }
        ByteBuffer bytes = tensor.getByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        return new TensorData(type, info.getShape(), bytes);
    }

    static DataType dataType(TensorInfo.OnnxTensorType type) {
        String name = type.name().substring("ONNX_TENSOR_ELEMENT_DATA_TYPE_".length());
        try {
            return DataType.valueOf(name);
        } catch (IllegalArgumentException e) {
            return DataType.UNDEFINED;
        }
    }

    static String firstLine(String message) {
        if (message == null) {
            return "no reason given";
        }
        String line = message.strip().lines().findFirst().orElse(message);
        return line.length() > 400 ? line.substring(0, 400) + "..." : line;
    }

    private static void deleteQuietly(Path folder) {
        try (var files = Files.walk(folder)) {
            List<Path> all = new ArrayList<>(files.toList());
            java.util.Collections.reverse(all);
            for (Path path : all) {
                Files.deleteIfExists(path);
            }
        } catch (IOException ignored) {
            // a temp folder left behind is harmless
        }
    }
}

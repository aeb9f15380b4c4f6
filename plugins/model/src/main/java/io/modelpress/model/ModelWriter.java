package io.modelpress.model;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/** Writes a model, moving large tensors to an external data file when asked to. */
final class ModelWriter {

    private final Path modelFile;
    private final SaveOptions options;
    private OutputStream data;
    private long dataOffset;

    ModelWriter(Path modelFile, SaveOptions options) {
        this.modelFile = modelFile.toAbsolutePath();
        this.options = options;
    }

    SavedModel write(ModelProto model) {
        Path folder = modelFile.getParent();
        try {
            Files.createDirectories(folder);
            Path dataFile = options.externalData() ? folder.resolve(options.dataFileName()) : null;
            ModelProto toWrite = model;
            if (dataFile != null) {
                Path dataTemp = Files.createTempFile(folder, ".data-", ".tmp");
                try (OutputStream out = Files.newOutputStream(dataTemp)) {
                    data = new java.io.BufferedOutputStream(out, 1 << 20);
                    toWrite = Graphs.rewrite(model, (path, graph) -> externalize(graph));
                    data.flush();
                } finally {
                    data = null;
                }
                Files.move(dataTemp, dataFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            long size = toWrite.getSerializedSize();
            if (size < 0 || size > LoadLimits.PROTOBUF_LIMIT) {
                throw new ModelException("the model is over 2 GiB and cannot be written as one protobuf file: "
                        + "save it with external data");
            }
            Path modelTemp = Files.createTempFile(folder, ".model-", ".tmp");
            try (OutputStream out = Files.newOutputStream(modelTemp)) {
                CodedOutputStream coded = CodedOutputStream.newInstance(out, 1 << 16);
                toWrite.writeTo(coded);
                coded.flush();
            }
            Files.move(modelTemp, modelFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            SortedMap<String, Path> external = new TreeMap<>();
            if (dataFile != null && dataOffset > 0) {
                external.put(options.dataFileName(), dataFile);
            } else if (dataFile != null) {
                Files.deleteIfExists(dataFile); // nothing was large enough to move out
            }
            String digest = ModelDigest.of(modelFile, external);
            return new SavedModel(modelFile, external.isEmpty() ? Optional.empty() : Optional.of(dataFile),
                    Files.size(modelFile), external.isEmpty() ? 0 : dataOffset, digest);
        } catch (IOException e) {
            throw new ModelException("cannot write " + modelFile + ": " + e.getMessage(), e);
        }
    }

    private GraphProto externalize(GraphProto graph) {
        GraphProto.Builder builder = graph.toBuilder();
        for (int i = 0; i < builder.getInitializerCount(); i++) {
            builder.setInitializer(i, externalize(builder.getInitializer(i)));
        }
        for (int n = 0; n < builder.getNodeCount(); n++) {
            NodeProto node = builder.getNode(n);
            NodeProto.Builder nodeBuilder = null;
            for (int a = 0; a < node.getAttributeCount(); a++) {
                AttributeProto attribute = node.getAttribute(a);
                if (attribute.hasT() && isLarge(attribute.getT())) {
                    if (nodeBuilder == null) {
                        nodeBuilder = node.toBuilder();
                    }
                    nodeBuilder.setAttribute(a, attribute.toBuilder().setT(externalize(attribute.getT())));
                }
            }
            if (nodeBuilder != null) {
                builder.setNode(n, nodeBuilder);
            }
        }
        return builder.build();
    }

    private boolean isLarge(TensorProto tensor) {
        return tensor.hasRawData() && tensor.getRawData().size() >= options.minExternalBytes();
    }

    private TensorProto externalize(TensorProto tensor) {
        if (!isLarge(tensor)) {
            return tensor;
        }
        ByteString raw = tensor.getRawData();
        try {
            long padding = (64 - dataOffset % 64) % 64; // aligned so that the data file can be memory-mapped
            for (long i = 0; i < padding; i++) {
                data.write(0);
            }
            dataOffset += padding;
            raw.writeTo(data);
        } catch (IOException e) {
            throw new ModelException("cannot write external data for tensor '" + tensor.getName() + "': " + e.getMessage(), e);
        }
        TensorProto external = tensor.toBuilder()
                .clearRawData()
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(entry("location", options.dataFileName()))
                .addExternalData(entry("offset", Long.toString(dataOffset)))
                .addExternalData(entry("length", Long.toString(raw.size())))
                .build();
        dataOffset += raw.size();
        return external;
    }

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }
}

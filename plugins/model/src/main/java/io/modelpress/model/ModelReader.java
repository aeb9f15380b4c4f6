package io.modelpress.model;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads a model file and its external data, refusing anything that is not a well-formed ONNX
 * model with a one-line reason: empty or truncated files, other formats, tensors whose data does
 * not match their shape, and external data paths that leave the model's folder.
 */
final class ModelReader {

    private static final int RECURSION_LIMIT = 200;

    private final Path file;
    private final LoadLimits limits;
    private final Path folder;
    private final Map<String, Path> externalFiles = new HashMap<>();
    private long externalBytes;

    ModelReader(Path file, LoadLimits limits) {
        this.file = file;
        this.limits = limits;
        this.folder = file.toAbsolutePath().getParent();
    }

    OnnxModel read() {
        byte[] bytes = readModelFile();
        externalBytes = bytes.length; // the total limit counts the model file too
        ModelProto proto = parse(bytes);
        checkStructure(proto);
        ModelProto inlined = Graphs.rewrite(proto, (path, graph) -> inlineGraph(graph));
        String digest = ModelDigest.of(bytes, new TreeMap<>(externalFiles));
        long externalFileBytes = 0;
        for (Path external : externalFiles.values()) {
            externalFileBytes += sizeOf(external);
        }
        return new OnnxModel(inlined, digest, !externalFiles.isEmpty(), bytes.length + externalFileBytes);
    }

    private static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new ModelException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private byte[] readModelFile() {
        long size;
        try {
            if (Files.isDirectory(file)) {
                throw new ModelException(file + " is a folder, not a model file");
            }
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new ModelException("model file not found: " + file);
        } catch (IOException e) {
            throw new ModelException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (size == 0) {
            throw new ModelException(file + " is empty (0 bytes): not an ONNX model");
        }
        if (size > limits.maxModelFileBytes()) {
            throw new ModelException(file + " is " + size + " bytes, over the limit of "
                    + limits.maxModelFileBytes() + " bytes for a model file");
        }
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ModelException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private ModelProto parse(byte[] bytes) {
        try {
            // An immutable input lets protobuf alias tensor data into the file's buffer instead of copying it.
            CodedInputStream in = UnsafeByteOperations.unsafeWrap(bytes).newCodedInput();
            in.enableAliasing(true);
            in.setRecursionLimit(RECURSION_LIMIT);
            in.setSizeLimit(Integer.MAX_VALUE);
            ModelProto proto = ModelProto.parseFrom(in);
            in.checkLastTagWas(0);
            return proto;
        } catch (InvalidProtocolBufferException e) {
            throw new ModelException(file + " is not an ONNX model: " + describe(e));
        } catch (IOException e) {
            throw new ModelException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static String describe(InvalidProtocolBufferException e) {
        String message = String.valueOf(e.getMessage());
        if (message.contains("ended unexpectedly") || message.contains("truncated")) {
            return "the data ends in the middle of a record (truncated file?)";
        }
        if (message.contains("recursion")) {
            return "records nested deeper than " + RECURSION_LIMIT + " levels";
        }
        int sentence = message.indexOf('.');
        return "protobuf parsing failed (" + (sentence > 0 ? message.substring(0, sentence) : message) + ")";
    }

    private void checkStructure(ModelProto proto) {
        if (!proto.hasGraph()) {
            throw new ModelException(file + " is not an ONNX model: it has no graph");
        }
        if (proto.getIrVersion() <= 0) {
            throw new ModelException(file + " is not an ONNX model: it declares no IR version");
        }
        if (proto.getOpsetImportCount() == 0) {
            throw new ModelException(file + " is not an ONNX model: it imports no operator set");
        }
        GraphProto graph = proto.getGraph();
        if (graph.getOutputCount() == 0) {
            throw new ModelException(file + " is not a usable ONNX model: its graph has no outputs");
        }
    }

    private GraphProto inlineGraph(GraphProto graph) {
        GraphProto.Builder builder = null;
        for (int i = 0; i < graph.getInitializerCount(); i++) {
            TensorProto original = graph.getInitializer(i);
            TensorProto checked = checkAndInline(original);
            if (checked != original) {
                if (builder == null) {
                    builder = graph.toBuilder();
                }
                builder.setInitializer(i, checked);
            }
        }
        for (int n = 0; n < graph.getNodeCount(); n++) {
            NodeProto node = graph.getNode(n);
            NodeProto inlined = inlineNode(node);
            if (inlined != node) {
                if (builder == null) {
                    builder = graph.toBuilder();
                }
                builder.setNode(n, inlined);
            }
        }
        if (graph.getSparseInitializerCount() > 0) {
            graph.getSparseInitializerList().forEach(sparse -> {
                if (sparse.getValues().getDataLocation() == TensorProto.DataLocation.EXTERNAL
                        || sparse.getIndices().getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
                    throw new ModelException("sparse initializer '" + sparse.getValues().getName()
                            + "' keeps its data in an external file, which is not supported");
                }
                checkAndInline(sparse.getValues());
                checkAndInline(sparse.getIndices());
            });
        }
        return builder == null ? graph : builder.build();
    }

    private NodeProto inlineNode(NodeProto node) {
        NodeProto.Builder builder = null;
        for (int a = 0; a < node.getAttributeCount(); a++) {
            AttributeProto attribute = node.getAttribute(a);
            AttributeProto.Builder attributeBuilder = null;
            if (attribute.hasT()) {
                TensorProto checked = checkAndInline(attribute.getT(), displayName(attribute.getT(), node));
                if (checked != attribute.getT()) {
                    attributeBuilder = attribute.toBuilder().setT(checked);
                }
            }
            for (int t = 0; t < attribute.getTensorsCount(); t++) {
                TensorProto checked = checkAndInline(attribute.getTensors(t));
                if (checked != attribute.getTensors(t)) {
                    if (attributeBuilder == null) {
                        attributeBuilder = attribute.toBuilder();
                    }
                    attributeBuilder.setTensors(t, checked);
                }
            }
            if (attributeBuilder != null) {
                if (builder == null) {
                    builder = node.toBuilder();
                }
                builder.setAttribute(a, attributeBuilder);
            }
        }
        return builder == null ? node : builder.build();
    }

    /** A Constant's tensor often has no name of its own: errors then name the value the node defines. */
    private static String displayName(TensorProto tensor, NodeProto node) {
        return tensor.getName().isEmpty() && node.getOutputCount() > 0 ? node.getOutput(0) : tensor.getName();
    }

    private TensorProto checkAndInline(TensorProto tensor) {
        return checkAndInline(tensor, tensor.getName());
    }

    /** Checks that the tensor's data matches its declared shape; external data is read in. */
    private TensorProto checkAndInline(TensorProto tensor, String name) {
        DataType type;
        try {
            type = DataType.of(tensor);
        } catch (ModelException e) {
            throw new ModelException("tensor '" + name + "' has " + e.getMessage());
        }
        long elements = Shapes.elementCount(name, tensor.getDimsList());
        if (type.bits() > 0 && elements > Long.MAX_VALUE / type.bits()) {
            throw new ModelException("tensor '" + name + "' declares " + elements + " " + type.label()
                    + " elements (dims " + tensor.getDimsList() + "), more bytes than fit in 64 bits");
        }
        if (tensor.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            return inlineExternal(tensor, name, type, elements);
        }
        if (type == DataType.STRING || type == DataType.UNDEFINED) {
            return tensor;
        }
        long held = heldValues(tensor, type);
        long expected = tensor.hasRawData() ? type.byteSize(elements) : typedSlots(type, elements);
        if (held != expected) {
            throw new ModelException("tensor '" + name + "' declares " + elements + " " + type.label()
                    + " elements (dims " + tensor.getDimsList() + ") but holds "
                    + (tensor.hasRawData() ? held + " bytes of raw data" : held + " values"));
        }
        return tensor;
    }

    private static long heldValues(TensorProto tensor, DataType type) {
        if (tensor.hasRawData()) {
            return tensor.getRawData().size();
        }
        return switch (type) {
            case FLOAT, COMPLEX64 -> tensor.getFloatDataCount();
            case DOUBLE, COMPLEX128 -> tensor.getDoubleDataCount();
            case INT64 -> tensor.getInt64DataCount();
            case UINT32, UINT64 -> tensor.getUint64DataCount();
            default -> tensor.getInt32DataCount();
        };
    }

    private static long typedSlots(DataType type, long elements) {
        return switch (type) {
            case COMPLEX64, COMPLEX128 -> elements * 2;
            case INT4, UINT4, FLOAT4E2M1 -> (elements + 1) / 2;
            default -> elements;
        };
    }

    private TensorProto inlineExternal(TensorProto tensor, String name, DataType type, long elements) {
        String location = null;
        long offset = 0;
        long length = -1;
        for (StringStringEntryProto entry : tensor.getExternalDataList()) {
            switch (entry.getKey()) {
                case "location" -> location = entry.getValue();
                case "offset" -> offset = parseLong(name, entry);
                case "length" -> length = parseLong(name, entry);
                default -> { } // checksum and future keys are informative only
            }
        }
        if (location == null || location.isEmpty()) {
            throw new ModelException("tensor '" + name + "' is marked external but names no location");
        }
        Path data = resolveInsideFolder(name, location);
        long expected = type.byteSize(elements);
        try (FileChannel channel = FileChannel.open(data, StandardOpenOption.READ)) {
            long fileSize = channel.size();
            if (length < 0) {
                length = fileSize - offset;
            }
            if (offset < 0 || offset > fileSize) {
                throw new ModelException("tensor '" + name + "' starts at byte " + offset
                        + " of external data file '" + location + "', which has only " + fileSize + " bytes");
            }
            if (length > fileSize - offset) {
                throw new ModelException("tensor '" + name + "' reads bytes " + offset + ".." + (offset + length)
                        + " of external data file '" + location + "', which has only " + fileSize + " bytes");
            }
            if (length != expected) {
                throw new ModelException("tensor '" + name + "' declares " + elements + " " + type.label()
                        + " elements (" + expected + " bytes) but its external data holds " + length + " bytes");
            }
            externalBytes += length;
            if (externalBytes > limits.maxTotalBytes()) {
                throw new ModelException(file + " with its external data exceeds the limit of "
                        + limits.maxTotalBytes() + " bytes");
            }
            if (length > Integer.MAX_VALUE - 16) {
                throw new ModelException("tensor '" + name + "' has " + length
                        + " bytes of external data, more than one tensor can hold in memory");
            }
            ByteBuffer buffer = ByteBuffer.allocate((int) length);
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, offset + buffer.position()) < 0) {
                    throw new ModelException("external data file '" + location + "' ended early");
                }
            }
            externalFiles.putIfAbsent(location, data);
            return tensor.toBuilder()
                    .clearExternalData()
                    .clearDataLocation() // as an inline tensor is written: the field absent, not set to DEFAULT
                    .setRawData(UnsafeByteOperations.unsafeWrap(buffer.array()))
                    .build();
        } catch (IOException e) {
            throw new ModelException("cannot read external data file '" + location + "' of tensor '"
                    + name + "': " + e.getMessage(), e);
        }
    }

    /** The external data file, refused unless it is a relative path that stays in the model's folder. */
    private Path resolveInsideFolder(String name, String location) {
        String refused = "tensor '" + name + "' names external data '" + location + "'";
        if (location.startsWith("/") || location.startsWith("\\") || location.matches("^[A-Za-z]:.*")
                || Path.of(location).isAbsolute()) {
            throw new ModelException(refused + ": an absolute path; external data must lie in the model's folder");
        }
        for (String segment : location.split("[/\\\\]")) {
            if (segment.equals("..")) {
                throw new ModelException(refused + ": a path with '..'; external data must lie in the model's folder");
            }
        }
        Path candidate = folder.resolve(location).normalize();
        try {
            Path realFolder = folder.toRealPath();
            if (!Files.exists(candidate, LinkOption.NOFOLLOW_LINKS)) {
                throw new ModelException(refused + ", which does not exist next to " + file.getFileName());
            }
            Path real = candidate.toRealPath();
            if (!real.startsWith(realFolder)) {
                throw new ModelException(refused + ", which leads outside the model's folder (through a link)");
            }
            if (!Files.isRegularFile(real)) {
                throw new ModelException(refused + ", which is not a regular file");
            }
            return real;
        } catch (NoSuchFileException e) {
            throw new ModelException(refused + ", a link to a file that does not exist");
        } catch (IOException e) {
            throw new ModelException(refused + ": " + e.getMessage(), e);
        }
    }

    private static long parseLong(String name, StringStringEntryProto entry) {
        try {
            return Long.parseLong(entry.getValue().trim());
        } catch (NumberFormatException e) {
            throw new ModelException("tensor '" + name + "' has external data " + entry.getKey()
                    + " '" + entry.getValue() + "', not a number");
        }
    }
}

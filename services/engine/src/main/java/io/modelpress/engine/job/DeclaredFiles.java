package io.modelpress.engine.job;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.SparseTensorProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.CodedInputStream;
import io.modelpress.engine.EngineException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The external data files a model file declares: the {@code location} of every tensor whose data
 * lies outside the file, in the main graph, in subgraphs (If, Loop, Scan) and in Constant nodes.
 * Only these are fetched beside the model, never whatever else its folder holds. A location that
 * is absolute or climbs out of the model's folder is refused.
 */
public final class DeclaredFiles {

    private static final int RECURSION_LIMIT = 200;

    private DeclaredFiles() {
    }

    /** A declared location that is no relative path inside the model's folder. */
    public static final class OutsideFolder extends EngineException {
        OutsideFolder(String message) {
            super(message);
        }
    }

    /**
     * @return the relative locations, sorted
     * @throws OutsideFolder for a location that is absolute or climbs out of the model's folder
     * @throws EngineException when the file is no ONNX model
     */
    public static SortedSet<String> of(Path modelFile) {
        ModelProto model;
        try (InputStream in = Files.newInputStream(modelFile)) {
            CodedInputStream coded = CodedInputStream.newInstance(in);
            coded.setRecursionLimit(RECURSION_LIMIT);
            coded.setSizeLimit(Integer.MAX_VALUE);
            model = ModelProto.parseFrom(coded);
        } catch (IOException e) {
            throw new EngineException("the model file is not a valid ONNX model: " + e.getMessage(), e);
        }
        SortedSet<String> locations = new TreeSet<>();
        if (model.hasGraph()) {
            graph(model.getGraph(), locations);
        }
        return locations;
    }

    private static void graph(GraphProto graph, SortedSet<String> locations) {
        graph.getInitializerList().forEach(tensor -> tensor(tensor, locations));
        for (SparseTensorProto sparse : graph.getSparseInitializerList()) {
            tensor(sparse.getValues(), locations);
            tensor(sparse.getIndices(), locations);
        }
        for (NodeProto node : graph.getNodeList()) {
            for (AttributeProto attribute : node.getAttributeList()) {
                if (attribute.hasT()) {
                    tensor(attribute.getT(), locations);
                }
                attribute.getTensorsList().forEach(tensor -> tensor(tensor, locations));
                if (attribute.hasG()) {
                    graph(attribute.getG(), locations);
                }
                attribute.getGraphsList().forEach(sub -> graph(sub, locations));
            }
        }
    }

    private static void tensor(TensorProto tensor, SortedSet<String> locations) {
        if (tensor.getDataLocation() != TensorProto.DataLocation.EXTERNAL) {
            return;
        }
        for (StringStringEntryProto entry : tensor.getExternalDataList()) {
            if (entry.getKey().equals("location")) {
                locations.add(checked(tensor.getName(), entry.getValue()));
            }
        }
    }

    private static String checked(String tensor, String location) {
        String refused = "tensor '" + tensor + "' names external data '" + location + "'";
        if (location.isEmpty() || location.startsWith("/") || location.contains("\\") || location.contains(":")) {
            throw new OutsideFolder(refused + ": external data must be a relative path in the model's folder");
        }
        for (String segment : location.split("/", -1)) {
            if (segment.equals("..") || segment.equals(".") || segment.isEmpty()) {
                throw new OutsideFolder(refused + ": a path with '" + segment
                        + "'; external data must lie in the model's folder");
            }
        }
        return location;
    }
}

package io.modelpress.model;

import ai.onnx.proto.OnnxMl.ModelProto;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * An ONNX model held in memory. Immutable: every change makes a new model, so a plugin can never
 * alter its input. External data is read in at load time and written out again on save, so
 * code working on a model never sees where its tensors were stored.
 */
public final class OnnxModel {

    private final ModelProto proto;
    private final String sourceDigest;
    private final boolean hadExternalData;
    private final long sourceBytes;
    private volatile WeightIndex weights;

    OnnxModel(ModelProto proto, String sourceDigest, boolean hadExternalData, long sourceBytes) {
        this.proto = Objects.requireNonNull(proto, "proto is null");
        this.sourceDigest = sourceDigest;
        this.hadExternalData = hadExternalData;
        this.sourceBytes = sourceBytes;
    }

    /** Loads a model file and its external data with the default limits. */
    public static OnnxModel load(Path file) {
        return load(file, LoadLimits.DEFAULT);
    }

    public static OnnxModel load(Path file, LoadLimits limits) {
        return new ModelReader(Objects.requireNonNull(file, "file is null"), limits).read();
    }

    /** A model built in memory. */
    public static OnnxModel of(ModelProto proto) {
        return new OnnxModel(proto, null, false, 0);
    }

    public ModelProto proto() {
        return proto;
    }

    /** A new model with this proto, keeping the memory of where this one came from. */
    public OnnxModel withProto(ModelProto changed) {
        return changed == proto ? this : new OnnxModel(changed, sourceDigest, hadExternalData, sourceBytes);
    }

    /** The weights of every graph, computed once. */
    public WeightIndex weights() {
        WeightIndex index = weights;
        if (index == null) {
            index = WeightIndex.of(proto);
            weights = index;
        }
        return index;
    }

    public ModelSummary summary() {
        return ModelSummary.of(this);
    }

    /** sha256 of the files this model was loaded from (model and external data); empty for a model built in memory. */
    public Optional<String> sourceDigest() {
        return Optional.ofNullable(sourceDigest);
    }

    /** Bytes on disk of the files it was loaded from (model and external data); 0 for a model built in memory. */
    public long sourceBytes() {
        return sourceBytes;
    }

    /** Whether the file it was loaded from kept tensors in external data files. */
    public boolean hadExternalData() {
        return hadExternalData;
    }

    /** Size of the model as one protobuf file, tensors inline. */
    public long serializedSize() {
        return proto.getSerializedSize();
    }

    public SavedModel save(Path file, SaveOptions options) {
        return new ModelWriter(Objects.requireNonNull(file, "file is null"), options).write(proto);
    }

    /**
     * Saves the way a registry would expect: external data when the source had it or the model
     * would not fit in one protobuf file, in {@code <name>.data} beside it.
     */
    public SavedModel save(Path file) {
        boolean external = hadExternalData || serializedSize() > SaveOptions.INLINE_LIMIT;
        return save(file, external ? SaveOptions.external(file.getFileName() + ".data") : SaveOptions.inline());
    }

    public byte[] toByteArray() {
        return proto.toByteArray();
    }
}

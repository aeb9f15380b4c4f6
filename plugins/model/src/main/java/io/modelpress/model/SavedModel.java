package io.modelpress.model;

import java.nio.file.Path;
import java.util.Optional;

/**
 * What {@link OnnxModel#save} wrote.
 *
 * @param modelFile the .onnx file
 * @param dataFile the external data file, when tensors were written outside the model
 * @param modelBytes size of the .onnx file
 * @param dataBytes size of the data file, 0 without one
 * @param digest sha256 of the model and its data, as {@link ModelDigest} computes it
 */
public record SavedModel(Path modelFile, Optional<Path> dataFile, long modelBytes, long dataBytes, String digest) {

    public long totalBytes() {
        return modelBytes + dataBytes;
    }
}

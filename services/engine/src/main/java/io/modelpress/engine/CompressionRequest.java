package io.modelpress.engine;

import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.HardwareProfile;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One model compressed for one profile with a given chain.
 *
 * @param model the model file (external data beside it)
 * @param profile the hardware target
 * @param chain the plugins to run, in order
 * @param outputFolder where model.onnx and report.json are written
 * @param calibration representative inputs, if any; fidelity is measured on them
 */
public record CompressionRequest(Path model, HardwareProfile profile, List<ChainStep> chain, Path outputFolder,
        Optional<CalibrationData> calibration) {

    public CompressionRequest {
        Objects.requireNonNull(model, "model is null");
        Objects.requireNonNull(profile, "profile is null");
        chain = List.copyOf(chain);
        Objects.requireNonNull(outputFolder, "outputFolder is null");
        Objects.requireNonNull(calibration, "calibration is null");
    }
}

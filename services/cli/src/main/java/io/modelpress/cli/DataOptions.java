package io.modelpress.cli;

import io.modelpress.engine.data.NpzData;
import io.modelpress.inference.BenchmarkSettings;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.HardwareProfile;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Data files and timing settings, shared by the commands that measure models. */
final class DataOptions {

    /** Data files larger than this are refused rather than read into memory. */
    private static final long MAX_DATA_BYTES = 2L << 30;

    @Option(names = "--calibration", paramLabel = "FILE.npz",
            description = "representative inputs: one array per model input, examples along axis 0 (numpy.savez)")
    Path calibration;

    @Option(names = "--evaluation", paramLabel = "FILE.npz",
            description = "labelled inputs for accuracy: as --calibration plus an integer array 'labels'")
    Path evaluation;

    @Option(names = "--data-batch", paramLabel = "N", defaultValue = "32",
            description = "examples per sample when cutting data files (default: ${DEFAULT-VALUE})")
    int dataBatch;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "50",
            description = "timed runs per model (default: ${DEFAULT-VALUE})")
    int iterations;

    Optional<CalibrationData> calibration() {
        return Optional.ofNullable(calibration).map(file -> NpzData.read(file, dataBatch, MAX_DATA_BYTES));
    }

    Optional<CalibrationData> evaluation() {
        return Optional.ofNullable(evaluation).map(file -> NpzData.read(file, dataBatch, MAX_DATA_BYTES));
    }

    BenchmarkSettings benchmarkSettings(HardwareProfile profile) {
        return new BenchmarkSettings(profile.threads(), Math.max(3, iterations / 5), iterations);
    }
}

package io.modelpress.cli;

import io.modelpress.engine.data.NpzData;
import io.modelpress.inference.BenchmarkSettings;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.HardwareProfile;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Data files and timing settings, shared by the commands that measure models. */
final class DataOptions {

    /** Data files larger than this are refused rather than read into memory. */
    private static final long MAX_DATA_BYTES = 2L << 30;

    @Option(names = "--calibration", paramLabel = "FILE.npz",
            description = "representative inputs: one array per model input (numpy.savez), examples along axis 0;"
                    + " an array one rank above its input holds one whole input per example (a recurrent state),"
                    + " a 0-d array for a scalar input is the same for every example")
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

    /** Whether a data file is given. */
    boolean given() {
        return calibration != null || evaluation != null;
    }

    /** @param inputRanks the model's, see {@link NpzData#inputRanks} */
    Optional<CalibrationData> calibration(Map<String, Integer> inputRanks) {
        return Optional.ofNullable(calibration).map(file -> NpzData.read(file, inputRanks, dataBatch, MAX_DATA_BYTES));
    }

    /** @param inputRanks the model's, see {@link NpzData#inputRanks} */
    Optional<CalibrationData> evaluation(Map<String, Integer> inputRanks) {
        return Optional.ofNullable(evaluation).map(file -> NpzData.read(file, inputRanks, dataBatch, MAX_DATA_BYTES));
    }

    BenchmarkSettings benchmarkSettings(HardwareProfile profile) {
        return new BenchmarkSettings(profile.threads(), Math.max(3, iterations / 5), iterations);
    }
}

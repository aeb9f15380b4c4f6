package io.modelpress.cli;

import io.modelpress.engine.EngineException;
import io.modelpress.engine.data.NpzData;
import io.modelpress.inference.BenchmarkSettings;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.HardwareProfile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Data files and timing settings, shared by the commands that measure models. */
final class DataOptions {

    /** Data files larger than this are refused rather than read into memory. */
    private static final long MAX_DATA_BYTES = 2L << 30;
    private static final int DEFAULT_BATCH = 32;

    @Option(names = "--calibration", paramLabel = "FILE.npz",
            description = "representative inputs: one array per model input (numpy.savez), examples along axis 0;"
                    + " an array one rank above its input holds one whole input per example (a recurrent state),"
                    + " a 0-d array for a scalar input is the same for every example")
    Path calibration;

    @Option(names = "--evaluation", paramLabel = "FILE.npz",
            description = "labelled inputs for accuracy: as --calibration plus an integer array 'labels'")
    Path evaluation;

    @Option(names = "--data-batch", paramLabel = "N",
            description = "examples per sample when cutting data files (default: compress takes the profile's batch"
                    + " size, as the service does; the other commands " + DEFAULT_BATCH + ")")
    Integer dataBatch;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "50",
            description = "timed rounds at least, one run of each model per round; more, up to ten times as many,"
                    + " until every median is stable (default: ${DEFAULT-VALUE})")
    int iterations;

    /** Whether a data file is given. */
    boolean given() {
        return calibration != null || evaluation != null;
    }

    /** @param inputRanks the model's, see {@link NpzData#inputRanks} */
    Optional<CalibrationData> calibration(Map<String, Integer> inputRanks) {
        return calibration(inputRanks, DEFAULT_BATCH);
    }

    /** @param batch examples per sample unless --data-batch says otherwise */
    Optional<CalibrationData> calibration(Map<String, Integer> inputRanks, int batch) {
        return Optional.ofNullable(calibration).map(file -> NpzData.read(file, inputRanks, batch(batch), MAX_DATA_BYTES));
    }

    /** @param inputRanks the model's, see {@link NpzData#inputRanks} */
    Optional<CalibrationData> evaluation(Map<String, Integer> inputRanks) {
        return evaluation(inputRanks, DEFAULT_BATCH);
    }

    /** @param batch examples per sample unless --data-batch says otherwise */
    Optional<CalibrationData> evaluation(Map<String, Integer> inputRanks, int batch) {
        return Optional.ofNullable(evaluation).map(file -> NpzData.read(file, inputRanks, batch(batch), MAX_DATA_BYTES));
    }

    private int batch(int otherwise) {
        return dataBatch == null ? otherwise : dataBatch;
    }

    /** The sha256 of the calibration file's bytes: a part of the request's identity. */
    Optional<String> calibrationSha256() {
        return Optional.ofNullable(calibration).map(DataOptions::sha256);
    }

    Optional<String> evaluationSha256() {
        return Optional.ofNullable(evaluation).map(DataOptions::sha256);
    }

    private static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int read; (read = in.read(buffer)) > 0; ) {
                sha.update(buffer, 0, read);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (IOException e) {
            throw new EngineException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }

    BenchmarkSettings benchmarkSettings(HardwareProfile profile) {
        return benchmarkSettings(profile.threads());
    }

    /** At least --iterations rounds after a fifth as many warm-up rounds (three at least). */
    BenchmarkSettings benchmarkSettings(int threads) {
        return BenchmarkSettings.of(threads, Math.max(3, iterations / 5), iterations);
    }
}

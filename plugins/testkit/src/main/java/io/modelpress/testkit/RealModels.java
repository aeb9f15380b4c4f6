package io.modelpress.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Real models that exporters wrote, shipped in this jar with their licences (see
 * {@code models/README.md} beside them).
 */
public enum RealModels {
    /** openWakeWord classifier: Gemm layers, expanded LayerNorm. */
    WAKEWORD("wakeword-hello-deepa.onnx"),
    /** Silero VAD v4: LSTMs inside If subgraphs. */
    SILERO_VAD_V4("silero-vad-v4.onnx"),
    /** Silero VAD v5: If subgraphs, Conv front end, LSTM state input. */
    SILERO_VAD_V5("silero-vad-v5.onnx"),
    /** PaddleOCR angle classifier: a small CNN whose weights are Constant nodes. */
    OCR_CLASSIFIER("ocr-cls.onnx"),
    /** PaddleOCR text detector: a CNN whose weights are Constant nodes. */
    OCR_DETECTOR("ocr-det.onnx"),
    /** PaddleOCR text recogniser: CNN plus attention layers, Constant-node weights. */
    OCR_RECOGNIZER("ocr-rec.onnx");

    private final String fileName;

    RealModels(String fileName) {
        this.fileName = fileName;
    }

    public String fileName() {
        return fileName;
    }

    /** Copies the model into {@code folder} and returns its path there. */
    public Path copyTo(Path folder) {
        Path target = folder.resolve(fileName);
        try (InputStream in = RealModels.class.getResourceAsStream("models/" + fileName)) {
            if (in == null) {
                throw new IllegalStateException("test model " + fileName + " is missing from the test kit");
            }
            Files.createDirectories(folder);
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static List<RealModels> all() {
        return List.of(values());
    }
}

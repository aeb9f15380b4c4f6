package io.modelpress.inference;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;

/**
 * How a session runs.
 *
 * @param intraOpThreads threads for one operator, 0 for ONNX Runtime's choice
 * @param optimization graph optimisation ONNX Runtime applies at load
 */
public record RunnerOptions(int intraOpThreads, OrtSession.SessionOptions.OptLevel optimization) {

    public static final RunnerOptions DEFAULT = new RunnerOptions(0, OrtSession.SessionOptions.OptLevel.ALL_OPT);

    public RunnerOptions withThreads(int threads) {
        return new RunnerOptions(threads, optimization);
    }

    OrtSession.SessionOptions toSessionOptions() throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
        options.setOptimizationLevel(optimization);
        if (intraOpThreads > 0) {
            options.setIntraOpNumThreads(intraOpThreads);
        }
        return options;
    }
}

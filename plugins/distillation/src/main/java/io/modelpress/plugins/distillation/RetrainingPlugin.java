package io.modelpress.plugins.distillation;

import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.ModelRunner;
import io.modelpress.spi.OptionSpec;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.PluginSpi;
import java.util.List;
import java.util.Optional;
import java.util.Locale;

/**
 * Trains the model it is given further, in place: the same graph comes out with new values in its
 * float32 weights ({@link TrainableGraph}), and what earlier steps imposed holds ({@link
 * ConstrainedTensor}). The two techniques differ in purpose and defaults: {@code fine-tune} lets a
 * pruned or shared model recover, {@code regularize} drives weights or whole channels towards zero so
 * that pruning afterwards removes them at less cost.
 *
 * <p>Data: the request's calibration data. The soft targets are the original model's outputs, the
 * model the chain started from ({@link io.modelpress.spi.PluginContext#original()}), so that a pruned or
 * shared model learns back what the original did rather than what the cut left ({@link Targets}); the
 * input model's own outputs only when the host names no original or it does not fit. Rows with labels
 * train on cross-entropy mixed with the soft targets by {@code alpha}; without labels the soft targets
 * alone teach, so unlabelled data suffices. A part of the rows is held out: every epoch is judged on it
 * and the best epoch kept (for fine-tuning, the weights as given included).
 */
abstract class RetrainingPlugin implements CompressionPlugin {

    static final String VERSION = "1.1.0";

    static final String EPOCHS = "epochs";
    static final String TIME_LIMIT = "time-limit";
    static final String BATCH_SIZE = "batch-size";
    static final String LEARNING_RATE = "learning-rate";
    static final String SCHEDULE = "schedule";
    static final String SEED = "seed";
    static final String HOLDOUT = "holdout";
    static final String PATIENCE = "patience";
    static final String L1 = "l1";
    static final String L2 = "l2";
    static final String GROUP_LASSO = "group-lasso";
    static final String ALPHA = "alpha";
    static final String TEMPERATURE = "temperature";
    static final String THREADS = "threads";
    static final String PRUNE_TO = "prune-to";
    static final String PRUNE_STEPS = "prune-steps";
    static final String PRUNE_UNTIL = "prune-until";

    /** Progress shares: reading the data and running the targets' model, training, exporting and measuring. */
    private static final double TRAINING_FROM = 0.1;
    private static final double TRAINING_TO = 0.9;
    /** Weights smaller than this are as good as pruned: what {@code near-zero-weights} counts. */
    static final float NEAR_ZERO = 1e-3f;

    @Override
    public String version() {
        return VERSION;
    }

    @Override
    public int spiVersion() {
        return PluginSpi.VERSION;
    }

    /** Defaults of the penalties: {l1, l2, group-lasso}. */
    abstract double[] penaltyDefaults();

    /** Default epochs and learning rate. */
    abstract int defaultEpochs();

    abstract double defaultLearningRate();

    /** Whether the weights as given compete with the trained epochs on the held-out rows. */
    abstract boolean givenIsCandidate();

    @Override
    public List<OptionSpec> options() {
        double[] penalties = penaltyDefaults();
        return List.of(
                OptionSpec.integer(EPOCHS, defaultEpochs(), 1, 1000, "most passes over the training rows"),
                OptionSpec.number(TIME_LIMIT, 0, 0, 86_400, "stop after the batch that passes this many seconds of"
                        + " training; 0 for no limit (with a limit, the result depends on the machine's speed)"),
                OptionSpec.integer(BATCH_SIZE, 64, 1, 65536, "rows per optimiser step"),
                OptionSpec.number(LEARNING_RATE, defaultLearningRate(), 1e-7, 1.0, "Adam's step size at the start"),
                OptionSpec.choice(SCHEDULE, "cosine", List.of("cosine", "constant"),
                        "step size over the steps: cosine decay to zero, or constant"),
                OptionSpec.integer(SEED, 42, 0, Integer.MAX_VALUE, "seeds the held-out split, the batch order and the"
                        + " engine: the same seed gives the same bytes"),
                OptionSpec.number(HOLDOUT, 0.1, 0.01, 0.5, "fraction of the rows held out to judge epochs"),
                OptionSpec.integer(PATIENCE, 3, 0, 1000,
                        "epochs without a better held-out result before stopping; 0 trains every epoch"),
                OptionSpec.number(L1, penalties[0], 0, 1, "L1 penalty on the weights (Gemm, MatMul, Conv, codebooks)"),
                OptionSpec.number(L2, penalties[1], 0, 1, "L2 penalty on the weights"),
                OptionSpec.number(GROUP_LASSO, penalties[2], 0, 1, "group-lasso penalty over each layer's output"
                        + " channels: drives whole channels to zero ahead of structured pruning"),
                OptionSpec.number(ALPHA, 0.0, 0, 1, "with labels, the weight of the original model's softened outputs"
                        + " as targets (the model the chain started from); the rest goes to the labels (without labels"
                        + " the outputs alone are used)"),
                OptionSpec.number(TEMPERATURE, 2.0, 1, 20, "softens the original model's outputs as targets"),
                OptionSpec.integer(THREADS, 1, 1, 256, "PyTorch threads for training (an engine-wide setting)"),
                OptionSpec.number(PRUNE_TO, 0, 0, 0.999, "prune gradually while training, to this fraction of zero"
                        + " weights (magnitude, one threshold over the tensors an earlier step pruned, else every"
                        + " Gemm/MatMul/Conv weight of at least " + GradualPruning.MIN_ELEMENTS + " elements);"
                        + " 0 prunes nothing"),
                OptionSpec.integer(PRUNE_STEPS, 100, 1, 100_000, "with prune-to: how many times the masks grow,"
                        + " along a cubic schedule (large cuts first, small ones near the end)"),
                OptionSpec.number(PRUNE_UNTIL, 0.5, 0.01, 1, "with prune-to: share of the training steps by which"
                        + " prune-to is reached; the rest trains at that sparsity"));
    }

    /** One float input, one output of class scores, and only operators the translator trains. */
    @Override
    public Optional<String> unsuitable(OnnxModel model) {
        try {
            TeacherAnalysis.scoreModel(model);
            TrainableGraph.checkOperators(model);
            return Optional.empty();
        } catch (PluginException e) {
            return Optional.of(e.getMessage());
        }
    }

    @Override
    public PluginResult apply(OnnxModel model, PluginOptions options, PluginContext context) throws PluginException {
        Teacher scores = TeacherAnalysis.scoreModel(model);
        TrainableGraph graph = TrainableGraph.of(model, scores.inputName(), TeacherAnalysis.logitsName(model, scores));
        if (graph.trainables().isEmpty()) {
            throw new PluginException("the model has no float32 weights to train (initializers read by Gemm, MatMul,"
                    + " Conv, Add, normalisation or a codebook Gather)");
        }
        CalibrationData calibration = context.calibrationData().orElseThrow(() -> new PluginException(
                "no data: " + id() + " trains on the request's calibration data; supply samples of input '"
                        + scores.inputName() + "' (labels optional: int64 class ids per row)"));
        RetrainSettings settings = settings(options);
        Targets targets = Targets.of(model, scores, context.original());
        TransferSet data;
        try (ModelRunner teacher = context.runner(targets.model())) {
            data = TransferSet.collect(targets.teacher(), calibration, teacher, context);
        }
        Split split = Split.of(data.rows(), settings.holdout(), settings.seed());
        FineTuner tuner = new FineTuner(graph, data, split, settings, context, TRAINING_FROM, TRAINING_TO);
        context.progress(TRAINING_FROM, "training " + tuner.tensors().size() + " tensors on " + split.train().length
                + " rows");
        FineTuner.Result trained = tuner.train();
        context.checkCancelled();
        context.progress(TRAINING_TO, "writing the trained weights and measuring them in ONNX Runtime");
        OnnxModel exported = graph.export(trained.values());
        HeldOutCheck before;
        HeldOutCheck after;
        try (ModelRunner input = context.runner(model); ModelRunner result = context.runner(exported)) {
            before = HeldOutCheck.measure(scores, data, split.holdout(), input);
            after = HeldOutCheck.measure(scores, data, split.holdout(), result);
        }
        context.progress(1.0, "done");
        return report(exported, tuner, targets, split, settings, trained, before, after);
    }

    RetrainSettings settings(PluginOptions options) {
        return new RetrainSettings(options.intValue(EPOCHS), options.number(TIME_LIMIT), options.intValue(BATCH_SIZE),
                options.number(LEARNING_RATE),
                RetrainSettings.Schedule.valueOf(options.text(SCHEDULE).toUpperCase(Locale.ROOT)),
                options.integer(SEED), options.number(HOLDOUT), options.intValue(PATIENCE), options.number(L1),
                options.number(L2), options.number(GROUP_LASSO), options.number(ALPHA), options.number(TEMPERATURE),
                options.intValue(THREADS), options.number(PRUNE_TO), options.intValue(PRUNE_STEPS),
                options.number(PRUNE_UNTIL), givenIsCandidate());
    }

    /**
     * What changed and how it was judged. "Before" is always this step's input and "after" the trained
     * model, both run in ONNX Runtime on the same held-out rows; agreement is with the targets' top class.
     */
    private PluginResult report(OnnxModel exported, FineTuner tuner, Targets targets, Split split,
            RetrainSettings settings, FineTuner.Result trained, HeldOutCheck before, HeldOutCheck after) {
        List<ConstrainedTensor> tensors = tuner.tensors();
        long pruned = tensors.stream().mapToLong(ConstrainedTensor::pruned).sum();
        long shared = tensors.stream().filter(ConstrainedTensor::shared).count();
        long free = tensors.stream().mapToLong(ConstrainedTensor::freeCount).sum();
        long nearZero = 0;
        long weights = 0;
        for (ConstrainedTensor tensor : tensors) {
            if (tensor.source().role() == TrainableGraph.Role.WEIGHT) {
                for (float value : trained.values().get(tensor.name())) {
                    weights++;
                    nearZero += Math.abs(value) < NEAR_ZERO ? 1 : 0;
                }
            }
        }
        PluginResult.Builder result = PluginResult.builder(exported)
                .change(String.format(Locale.ROOT, "trained %d tensors in place (%,d values move: %d shared tensors"
                        + " as clusters, %,d pruned positions kept at zero); names, nodes, inputs and outputs unchanged",
                        tensors.size(), free, shared, pruned))
                .change(String.format(Locale.ROOT, "%d epoch%s in %.1f s (%s), kept epoch %d%s: Adam %s at %s,"
                        + " batch %d, seed %d, l1 %s, l2 %s, group-lasso %s, %,d training rows",
                        trained.epochsRun(), trained.epochsRun() == 1 ? "" : "s", trained.seconds(),
                        trained.stopReason(), trained.bestEpoch(),
                        trained.bestEpoch() == 0 ? " (no epoch beat the weights as given)" : "",
                        settings.schedule().name().toLowerCase(Locale.ROOT), settings.learningRate(),
                        settings.batchSize(), settings.seed(), settings.l1(), settings.l2(), settings.groupLasso(),
                        split.train().length))
                .change("soft targets: the outputs of " + targets.source())
                .change(String.format(Locale.ROOT, "held-out %s during training: %.2f%% before, %.2f%% kept",
                        tuner.scoreName(), 100 * trained.startScore(), 100 * trained.bestScore()))
                .change(String.format(Locale.ROOT, "held-out top-1 agreement with the %s's outputs on %,d rows in"
                        + " ONNX Runtime: %.2f%% before (this step's input), %.2f%% after", targetName(targets),
                        after.rows(), 100 * before.agreement(), 100 * after.agreement()));
        if (!trained.pruning().isEmpty()) {
            result.change(trained.pruning()).figure("sparsity", trained.sparsity());
        }
        if (after.labelled() > 0) {
            result.change(String.format(Locale.ROOT, "held-out top-1 accuracy on %,d labelled rows in ONNX Runtime:"
                    + " %.2f%% before (this step's input), %.2f%% after (%+.2f points)%s", after.labelled(),
                    100 * before.studentAccuracy(), 100 * after.studentAccuracy(),
                    100 * (after.studentAccuracy() - before.studentAccuracy()), targets.original()
                            ? String.format(Locale.ROOT, "; the original: %.2f%%", 100 * after.teacherAccuracy()) : ""));
            result.figure("holdout-accuracy-before", before.studentAccuracy())
                    .figure("holdout-accuracy-after", after.studentAccuracy());
            if (targets.original()) {
                result.figure("holdout-accuracy-original", after.teacherAccuracy());
            }
        } else {
            result.skipped("labels", "the data has no labels: the model trained on the " + targetName(targets)
                    + "'s outputs alone, and no accuracy is reported");
        }
        return result.figure("trained-tensors", tensors.size())
                .figure("shared-tensors", shared)
                .figure("pruned-positions", pruned)
                .figure("near-zero-weights", weights == 0 ? 0 : (double) nearZero / weights)
                .figure("epochs", trained.epochsRun())
                .figure("best-epoch", trained.bestEpoch())
                .figure("training-seconds", trained.seconds())
                .figure("holdout-rows", after.rows())
                .figure("holdout-agreement-before", before.agreement())
                .figure("holdout-agreement", after.agreement())
                .figure("targets-from-original", targets.original() ? 1 : 0)
                .build();
    }

    private static String targetName(Targets targets) {
        return targets.original() ? "original model" : "input model";
    }
}

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
import io.modelpress.spi.Technique;
import java.util.List;
import java.util.Locale;

/**
 * Knowledge distillation: trains a compact student of the teacher's kind to reproduce the
 * registered model's outputs, and returns the student in its place.
 *
 * <ul>
 *   <li>Teacher: the registered ONNX model, run on the transfer set (the request's calibration
 *       data, labels used where present) through {@link PluginContext#runner}: that is the host's
 *       ONNX Runtime — plugins see only the SPI, so this plugin brings no ONNX Runtime of its own.
 *   <li>Student: for an MLP fewer and narrower dense layers, for a CNN image classifier a small
 *       network of depthwise-separable blocks; other kinds (transformers, recurrent models, models
 *       with subgraphs) are refused with the reason and left unchanged.
 *   <li>Training: DJL 0.35.1 with its PyTorch engine on the CPU, offline, with the native libraries
 *       this plugin ships; temperature-scaled KL divergence to the teacher's softened outputs plus
 *       cross-entropy on labels; early stopping on a held-out part of the transfer set.
 *   <li>Export: written by the model core as plain ONNX (Gemm, Conv, Relu, ...) with the teacher's
 *       input and output names, types and shapes, so it is a drop-in replacement that later steps
 *       (quantization, packaging) take further.
 * </ul>
 */
public final class DistillationPlugin implements CompressionPlugin {

    static final String VERSION = "1.0.0";

    static final String WIDTH_MULTIPLIER = "width-multiplier";
    static final String DEPTH = "depth";
    static final String TEMPERATURE = "temperature";
    static final String ALPHA = "alpha";
    static final String EPOCHS = "epochs";
    static final String BATCH_SIZE = "batch-size";
    static final String LEARNING_RATE = "learning-rate";
    static final String SEED = "seed";
    static final String HOLDOUT = "holdout";
    static final String PATIENCE = "patience";
    static final String MIXUP = "mixup";
    static final String THREADS = "threads";
    static final String L1 = "l1";
    static final String L2 = "l2";

    @Override
    public String id() {
        return "distillation";
    }

    @Override
    public String version() {
        return VERSION;
    }

    @Override
    public int spiVersion() {
        return PluginSpi.VERSION;
    }

    @Override
    public Technique technique() {
        return Technique.DISTILLATION;
    }

    @Override
    public String description() {
        return "Trains a compact student (narrower MLP, or small depthwise-separable CNN) on the model's outputs"
                + " and returns it in its place";
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(
                OptionSpec.number(WIDTH_MULTIPLIER, 0.25, 0.01, 1.0,
                        "student widths (units, channels) as a fraction of the teacher's"),
                OptionSpec.integer(DEPTH, 0, 0, 16, "hidden layers of an MLP student, depthwise-separable blocks of a"
                        + " CNN student; 0 chooses: one hidden layer fewer than the teacher, or the blocks (2-4) that"
                        + " downsample the image to a few pixels"),
                OptionSpec.number(TEMPERATURE, 4.0, 1.0, 20.0, "softmax temperature of the distillation loss"),
                OptionSpec.number(ALPHA, 0.7, 0.0, 1.0, "weight of the distillation loss; the rest goes to"
                        + " cross-entropy on labels (without labels the distillation loss alone is used)"),
                OptionSpec.integer(EPOCHS, 20, 1, 1000, "most passes over the training rows"),
                OptionSpec.integer(BATCH_SIZE, 64, 1, 65536, "rows per optimiser step"),
                OptionSpec.number(LEARNING_RATE, 0.003, 1e-6, 1.0, "Adam learning rate"),
                OptionSpec.integer(SEED, 42, 0, Integer.MAX_VALUE,
                        "seeds the held-out split, batch order, initial weights and the engine"),
                OptionSpec.number(HOLDOUT, 0.1, 0.01, 0.5,
                        "fraction of the transfer rows held out to measure agreement and stop early"),
                OptionSpec.integer(PATIENCE, 3, 0, 1000,
                        "epochs without better held-out agreement before stopping; 0 trains every epoch"),
                OptionSpec.number(MIXUP, 1.0, 0.0, 4.0, "rows added to the training rows as mixtures of two of them,"
                        + " scored by the teacher, as a multiple of the training rows; 0 adds none"),
                OptionSpec.integer(THREADS, 1, 1, 256, "PyTorch threads for training (an engine-wide setting);"
                        + " more pay off only for large students on idle cores"),
                OptionSpec.number(L1, 0, 0, 1, "L1 penalty on the student's weights: sparser students for pruning"),
                OptionSpec.number(L2, 0, 0, 1, "L2 penalty on the student's weights"));
    }

    @Override
    public PluginResult apply(OnnxModel model, PluginOptions options, PluginContext context) throws PluginException {
        Teacher teacher = TeacherAnalysis.analyse(model);
        CalibrationData calibration = context.calibrationData().orElseThrow(() -> new PluginException(
                "no transfer set: distillation trains the student on the teacher's outputs for representative"
                        + " inputs; supply calibration data with samples of input '" + teacher.inputName()
                        + "' (labels optional: int64 class ids per row)"));
        try (ModelRunner teacherRunner = context.runner(model)) {
            TransferSet data = TransferSet.collect(teacher, calibration, teacherRunner, context);
            Student student = StudentPlanner.plan(teacher, data.rowShape(), data.classes(),
                    options.number(WIDTH_MULTIPLIER), options.intValue(DEPTH));
            TrainingSettings settings = settings(options);
            Split split = Split.of(data.rows(), settings.holdout(), settings.seed());

            context.progress(StudentTrainer.START,
                    "training " + student.description() + " on " + split.train().length + " rows");
            BatchRunner teacherBatches = new BatchRunner(teacher, teacherRunner, data.rowShape(), data.classes());
            StudentTrainer.Trained trained = new StudentTrainer(student, data, split, settings, context,
                    (inputs, rows) -> TransferSet.toLogits(teacher.head(), teacherBatches.scores(inputs, rows))).train();
            context.checkCancelled();

            context.progress(StudentTrainer.END, "exporting the student and measuring it in ONNX Runtime");
            OnnxModel exported = StudentExporter.export(model, teacher, student, trained.parameters());
            HeldOutCheck check;
            try (ModelRunner studentRunner = context.runner(exported)) {
                check = HeldOutCheck.measure(teacher, data, split.holdout(), studentRunner);
            }
            context.progress(1.0, "done");
            return report(model, exported, teacher, student, data, split, settings, trained, check);
        }
    }

    private static TrainingSettings settings(PluginOptions options) {
        return new TrainingSettings(options.number(TEMPERATURE), options.number(ALPHA), options.intValue(EPOCHS),
                options.intValue(BATCH_SIZE), options.number(LEARNING_RATE), options.integer(SEED),
                options.number(HOLDOUT), options.intValue(PATIENCE), options.number(MIXUP), options.intValue(THREADS),
                options.number(L1), options.number(L2));
    }

    private static PluginResult report(OnnxModel model, OnnxModel exported, Teacher teacher, Student student,
            TransferSet data, Split split, TrainingSettings settings, StudentTrainer.Trained trained,
            HeldOutCheck check) {
        long teacherBytes = model.serializedSize();
        long studentBytes = exported.serializedSize();
        double reduction = (double) teacher.parameters() / student.parameters();
        PluginResult.Builder result = PluginResult.builder(exported)
                .change(String.format(Locale.ROOT,
                        "replaced the %s teacher (%,d parameters, %,d bytes) by a distilled student: %s (%,d parameters,"
                                + " %.1fx fewer; %,d bytes) with the teacher's input '%s' and output '%s'",
                        teacher.kind(), teacher.parameters(), teacherBytes, student.description(), student.parameters(),
                        reduction, studentBytes, teacher.inputName(), teacher.outputName()))
                .change(String.format(Locale.ROOT,
                        "trained %d epoch%s (kept epoch %d%s) in %.1f s with %s on the CPU: temperature %s, alpha %s,"
                                + " Adam learning rate %s, batch %d, seed %d, %,d training rows%s",
                        trained.epochsRun(), trained.epochsRun() == 1 ? "" : "s", trained.bestEpoch(),
                        trained.stoppedEarly() ? "; stopped early after " + settings.patience()
                                + " epochs without better held-out agreement" : "",
                        trained.seconds(), trained.engine(), settings.temperature(),
                        data.labelled() > 0 ? Double.toString(settings.alpha()) : "1 (no labels)",
                        settings.learningRate(), settings.batchSize(), settings.seed(), split.train().length,
                        settings.mixup() > 0 ? String.format(Locale.ROOT, " plus %,d teacher-scored mixtures of them",
                                Math.max(1, Math.round(split.train().length * settings.mixup()))) : ""))
                .change(String.format(Locale.ROOT,
                        "held-out agreement with the teacher's top class: %.2f%% of %,d rows, measured on the exported"
                                + " student in ONNX Runtime", 100 * check.agreement(), check.rows()));
        if (check.labelled() > 0) {
            result.change(String.format(Locale.ROOT,
                    "held-out top-1 accuracy on %,d labelled rows: teacher %.2f%%, student %.2f%% (%+.2f points)",
                    check.labelled(), 100 * check.teacherAccuracy(), 100 * check.studentAccuracy(),
                    100 * (check.studentAccuracy() - check.teacherAccuracy())));
        }
        if (data.labelled() == 0) {
            result.skipped("labels", "the transfer set has no labels: the student learned from the teacher's"
                    + " outputs alone, and no accuracy is reported");
        } else if (data.labelled() < data.rows()) {
            result.skipped("labels", String.format(Locale.ROOT, "%,d of %,d transfer rows have no label: they"
                    + " taught through the teacher's outputs only", data.rows() - data.labelled(), data.rows()));
        }
        result.figure("teacher-parameters", teacher.parameters())
                .figure("student-parameters", student.parameters())
                .figure("parameter-reduction", reduction)
                .figure("teacher-bytes", teacherBytes)
                .figure("student-bytes", studentBytes)
                .figure("training-seconds", trained.seconds())
                .figure("epochs", trained.epochsRun())
                .figure("best-epoch", trained.bestEpoch())
                .figure("transfer-rows", data.rows())
                .figure("holdout-rows", check.rows())
                .figure("holdout-agreement", check.agreement())
                .figure("training-holdout-agreement", trained.bestAgreement());
        if (check.labelled() > 0) {
            result.figure("holdout-labelled-rows", check.labelled())
                    .figure("holdout-accuracy-teacher", check.teacherAccuracy())
                    .figure("holdout-accuracy-student", check.studentAccuracy());
        }
        return result.build();
    }
}

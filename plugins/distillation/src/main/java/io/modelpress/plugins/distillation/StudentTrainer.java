package io.modelpress.plugins.distillation;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Trains a student with DJL's PyTorch engine on the CPU: Adam on the distillation loss, one
 * held-out evaluation per epoch, the best epoch's weights kept (early stopping).
 *
 * <p>Everything random comes from the seed: the plugin's own generator draws the initial weights and
 * the batch order, and the engine's generator is seeded too (the student uses no random operators,
 * so it should not matter). Whether PyTorch's CPU kernels then give bit-identical results from run
 * to run is PyTorch's business; the tests check it on this machine.
 */
final class StudentTrainer {

    /** Rows per forward pass when measuring the held-out part. */
    private static final int EVALUATION_BATCH = 512;
    /** Share of the plugin's progress before and after training (teacher runs, export and checks). */
    static final double START = 0.1;
    static final double END = 0.9;

    private final Student student;
    private final TransferSet data;
    private final Split split;
    private final TrainingSettings settings;
    private final PluginContext context;
    private final TeacherScores teacher;
    private final float[] soft;
    private final float[] logSoft;

    /** The teacher's logits for rows the trainer makes (mixtures); the host runs the teacher. */
    interface TeacherScores {
        float[] logits(float[] inputs, int rows) throws PluginException;
    }

    /**
     * Rows to train on for one epoch.
     *
     * @param inputs {@code count × rowSize}
     * @param soft softened teacher targets, {@code count × classes}
     * @param logSoft their logs
     * @param labels class per row, -1 where unlabelled
     */
    record Rows(int count, float[] inputs, float[] soft, float[] logSoft, int[] labels) {
    }

    StudentTrainer(Student student, TransferSet data, Split split, TrainingSettings settings, PluginContext context,
            TeacherScores teacher) {
        this.teacher = Objects.requireNonNull(teacher, "teacher is null");
        this.student = Objects.requireNonNull(student, "student is null");
        this.data = Objects.requireNonNull(data, "data is null");
        this.split = Objects.requireNonNull(split, "split is null");
        this.settings = Objects.requireNonNull(settings, "settings is null");
        this.context = Objects.requireNonNull(context, "context is null");
        this.soft = new float[data.teacherLogits().length];
        this.logSoft = new float[soft.length];
        softenTargets(data.teacherLogits(), data.classes(), settings.temperature(), soft, logSoft);
    }

    /** What training produced. */
    record Trained(List<float[]> parameters, int epochsRun, int bestEpoch, double bestAgreement, double bestLoss,
            boolean stoppedEarly, double seconds, String engine) {
        Trained {
            parameters = List.copyOf(parameters);
        }
    }

    Trained train() throws PluginException {
        return PyTorch.run(this::train);
    }

    private Trained train(Engine engine) throws PluginException {
        long started = System.nanoTime();
        engine.setRandomSeed((int) settings.seed());
        // one JVM-wide setting of the engine; OpenMP threads that spin on a busy machine cost far more
        // than they bring to a small student, so the default is one
        JniUtils.setNumThreads(settings.threads());
        SplittableRandom random = new SplittableRandom(settings.seed());
        double alpha = data.labelled() > 0 ? settings.alpha() : 1.0;
        try (Model model = Model.newInstance("student", Device.cpu(), PyTorch.ENGINE)) {
            List<Block> parametric = new ArrayList<>();
            model.setBlock(block(parametric));
            DefaultTrainingConfig config = new DefaultTrainingConfig(new DistillationLoss(settings.temperature(), alpha))
                    .optOptimizer(Optimizer.adam()
                            .optLearningRateTracker(Tracker.fixed((float) settings.learningRate())).build())
                    .optDevices(new Device[] {Device.cpu()});
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(shape(1));
                initialise(parametric, random);
                return loop(trainer, parametric, random, started, engine);
            }
        }
    }

    /** How many mixtures of training rows are added to them. */
    private int mixtures() {
        return settings.mixup() > 0 ? Math.max(1, (int) Math.round(split.train().length * settings.mixup())) : 0;
    }

    private Trained loop(Trainer trainer, List<Block> parametric, SplittableRandom random, long started,
            Engine engine) throws PluginException {
        Rows rows = settings.mixup() > 0 ? withMixtures(trainingRows(), random) : trainingRows();
        int epochs = settings.epochs();
        List<float[]> best = snapshot(parametric);
        EarlyStopping stopping = new EarlyStopping(settings.patience());
        int epoch = 0;
        boolean stoppedEarly = false;
        while (epoch < epochs) {
            epoch++;
            int[] order = new int[rows.count()];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            Split.shuffle(order, random);
            int batches = (order.length + settings.batchSize() - 1) / settings.batchSize();
            double lossSum = 0;
            for (int b = 0; b < batches; b++) {
                context.checkCancelled();
                int from = b * settings.batchSize();
                int to = Math.min(order.length, from + settings.batchSize());
                lossSum += step(trainer, parametric, rows, order, from, to) * (to - from);
                context.progress(progress(((epoch - 1) + (b + 1.0) / batches) / epochs),
                        "epoch " + epoch + " of " + epochs + ", batch " + (b + 1) + " of " + batches);
            }
            Evaluation held = evaluate(trainer);
            context.progress(progress((double) epoch / epochs), String.format(Locale.ROOT,
                    "epoch %d of %d: training loss %.4f, held-out loss %.4f, held-out agreement %.2f%%", epoch, epochs,
                    lossSum / order.length, held.loss(), 100 * held.agreement()));
            if (stopping.record(epoch, held.agreement(), held.loss())) {
                best = snapshot(parametric);
            } else if (stopping.exhausted(epoch)) {
                stoppedEarly = epoch < epochs;
                break;
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        return new Trained(best, epoch, stopping.bestEpoch(), stopping.bestAgreement(), stopping.bestLoss(),
                stoppedEarly, seconds, engine.getEngineName() + " " + engine.getVersion());
    }

    /** The plugin's progress when {@code share} of the training is done; never past END, whatever the rounding. */
    private static double progress(double share) {
        return Math.min(END, START + (END - START) * share);
    }

    /** The training part of the transfer set with its soft targets. */
    private Rows trainingRows() {
        int[] train = split.train();
        int classes = data.classes();
        int[] labels = new int[train.length];
        for (int i = 0; i < train.length; i++) {
            labels[i] = data.labels()[train[i]];
        }
        return new Rows(train.length, gatherRows(data.inputs(), data.rowSize(), train, 0, train.length),
                gatherRows(soft, classes, train, 0, train.length), gatherRows(logSoft, classes, train, 0, train.length),
                labels);
    }

    /**
     * The training rows plus mixtures of random pairs of them, {@code x = l·a + (1-l)·b} with l uniform
     * in [0, 1), which the teacher scores: distillation can learn from inputs that have no label, and
     * mixtures show the student how the teacher behaves between the examples, where a small transfer
     * set says nothing. Made once, before the first epoch: running the teacher again every epoch
     * costs more than fresh mixtures bring.
     */
    private Rows withMixtures(Rows base, SplittableRandom random) throws PluginException {
        int width = data.rowSize();
        int classes = data.classes();
        int mixed = mixtures();
        if ((long) (base.count() + mixed) * width > Integer.MAX_VALUE - 16) {
            throw new PluginException(String.format(Locale.ROOT, "%,d training rows of %,d values and %,d mixtures of"
                    + " them do not fit in memory at once; lower option 'mixup' (now %s) or supply fewer samples",
                    base.count(), width, mixed, settings.mixup()));
        }
        float[] inputs = Arrays.copyOf(base.inputs(), (base.count() + mixed) * width);
        for (int m = 0; m < mixed; m++) {
            int a = random.nextInt(base.count()) * width;
            int b = random.nextInt(base.count()) * width;
            float l = (float) random.nextDouble();
            int to = (base.count() + m) * width;
            for (int k = 0; k < width; k++) {
                inputs[to + k] = l * base.inputs()[a + k] + (1 - l) * base.inputs()[b + k];
            }
        }
        float[] mixedInputs = Arrays.copyOfRange(inputs, base.count() * width, inputs.length);
        float[] logits = teacher.logits(mixedInputs, mixed);
        float[] soft = Arrays.copyOf(base.soft(), (base.count() + mixed) * classes);
        float[] logSoft = Arrays.copyOf(base.logSoft(), soft.length);
        float[] mixedSoft = new float[mixed * classes];
        float[] mixedLogSoft = new float[mixed * classes];
        softenTargets(logits, classes, settings.temperature(), mixedSoft, mixedLogSoft);
        System.arraycopy(mixedSoft, 0, soft, base.count() * classes, mixedSoft.length);
        System.arraycopy(mixedLogSoft, 0, logSoft, base.count() * classes, mixedLogSoft.length);
        int[] labels = Arrays.copyOf(base.labels(), base.count() + mixed);
        Arrays.fill(labels, base.count(), labels.length, -1);
        return new Rows(base.count() + mixed, inputs, soft, logSoft, labels);
    }

    /** One optimiser step on rows {@code order[from, to)}; the batch's mean loss. */
    private float step(Trainer trainer, List<Block> parametric, Rows rows, int[] order, int from, int to) {
        int count = to - from;
        int classes = data.classes();
        float[] oneHot = new float[count * classes];
        for (int i = 0; i < count; i++) {
            int label = rows.labels()[order[from + i]];
            if (label >= 0) {
                oneHot[i * classes + label] = 1f;
            }
        }
        try (NDManager batch = trainer.getManager().newSubManager()) {
            Shape scores = new Shape(count, classes);
            NDList targets = new NDList(batch.create(gatherRows(rows.soft(), classes, order, from, to), scores),
                    batch.create(gatherRows(rows.logSoft(), classes, order, from, to), scores),
                    batch.create(oneHot, scores));
            NDArray x = batch.create(gatherRows(rows.inputs(), data.rowSize(), order, from, to), shape(count));
            float loss;
            try (GradientCollector collector = trainer.newGradientCollector()) {
                NDList predictions = trainer.forward(new NDList(x));
                NDArray value = trainer.getLoss().evaluate(targets, predictions);
                collector.backward(settings.l1() > 0 || settings.l2() > 0 ? value.add(penalty(parametric)) : value);
                loss = value.getFloat();
            }
            trainer.step();
            return loss;
        }
    }

    /** {@code l1 · Σ|w| + l2/2 · Σw²} over the weights (not the biases) of every dense and conv layer. */
    private NDArray penalty(List<Block> parametric) {
        NDArray total = null;
        for (Block block : parametric) {
            NDArray weight = block.getParameters().get("weight").getArray();
            NDArray term = weight.abs().sum().mul((float) settings.l1())
                    .add(weight.square().sum().mul((float) (settings.l2() / 2)));
            total = total == null ? term : total.add(term);
        }
        return total;
    }

    /** The distillation loss and the top-1 agreement with the teacher on the held-out rows. */
    record Evaluation(double loss, double agreement) {
    }

    private Evaluation evaluate(Trainer trainer) {
        int[] rows = split.holdout();
        int classes = data.classes();
        double t = settings.temperature();
        double loss = 0;
        int agreed = 0;
        for (int from = 0; from < rows.length; from += EVALUATION_BATCH) {
            int to = Math.min(rows.length, from + EVALUATION_BATCH);
            float[] logits;
            try (NDManager batch = trainer.getManager().newSubManager()) {
                NDArray x = batch.create(gatherRows(data.inputs(), data.rowSize(), rows, from, to), shape(to - from));
                logits = trainer.evaluate(new NDList(x)).singletonOrThrow().toFloatArray();
            }
            for (int i = 0; i < to - from; i++) {
                int row = rows[from + i];
                int offset = i * classes;
                loss += t * t * klDivergence(row, logits, offset, classes, t);
                if (argMax(logits, offset, classes) == argMax(data.teacherLogits(), row * classes, classes)) {
                    agreed++;
                }
            }
        }
        return new Evaluation(loss / rows.length, (double) agreed / rows.length);
    }

    /** KL(teacher ‖ student) at temperature t for one row, from the precomputed soft targets. */
    private double klDivergence(int row, float[] logits, int offset, int classes, double t) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
            max = Math.max(max, logits[offset + c] / t);
        }
        double sum = 0;
        for (int c = 0; c < classes; c++) {
            sum += Math.exp(logits[offset + c] / t - max);
        }
        double logNorm = max + Math.log(sum);
        double kl = 0;
        for (int c = 0; c < classes; c++) {
            int k = row * classes + c;
            kl += soft[k] * (logSoft[k] - (logits[offset + c] / t - logNorm));
        }
        return kl;
    }

    static int argMax(float[] values, int offset, int count) {
        int best = 0;
        for (int c = 1; c < count; c++) {
            if (values[offset + c] > values[offset + best]) {
                best = c;
            }
        }
        return best;
    }

    /** softmax(logits / t) and its log, row by row, in double precision. */
    static void softenTargets(float[] logits, int classes, double t, float[] soft, float[] logSoft) {
        int rows = logits.length / classes;
        IntStream.range(0, rows).parallel().forEach(row -> {
            int offset = row * classes;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                max = Math.max(max, logits[offset + c] / t);
            }
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                sum += Math.exp(logits[offset + c] / t - max);
            }
            double logNorm = max + Math.log(sum);
            for (int c = 0; c < classes; c++) {
                double log = logits[offset + c] / t - logNorm;
                logSoft[offset + c] = (float) log;
                soft[offset + c] = (float) Math.exp(log);
            }
        });
    }

    /** Rows {@code order[from, to)} of a row-major {@code source} whose rows are {@code width} long. */
    static float[] gatherRows(float[] source, int width, int[] order, int from, int to) {
        float[] rows = new float[(to - from) * width];
        for (int i = from; i < to; i++) {
            System.arraycopy(source, order[i] * width, rows, (i - from) * width, width);
        }
        return rows;
    }

    private Shape shape(long rows) {
        long[] row = data.rowShape();
        long[] dims = new long[row.length + 1];
        dims[0] = rows;
        System.arraycopy(row, 0, dims, 1, row.length);
        return new Shape(dims);
    }

    /** The student as a DJL block; {@code parametric} receives its Linear and Conv2d blocks in order. */
    private SequentialBlock block(List<Block> parametric) {
        SequentialBlock block = new SequentialBlock();
        for (Layer layer : student.layers()) {
            Block next = djlBlock(layer);
            if (layer instanceof Layer.Dense || layer instanceof Layer.Conv) {
                parametric.add(next);
            }
            block.add(next);
        }
        return block;
    }

    private static Block djlBlock(Layer layer) {
        if (layer instanceof Layer.Dense dense) {
            return Linear.builder().setUnits(dense.outputs()).build();
        }
        if (layer instanceof Layer.Conv conv) {
            return Conv2d.builder()
                    .setKernelShape(new Shape(conv.kernel(), conv.kernel()))
                    .optStride(new Shape(conv.stride(), conv.stride()))
                    .optPadding(new Shape(conv.padding(), conv.padding()))
                    .optGroups(conv.groups())
                    .setFilters(conv.outputs())
                    .build();
        }
        if (layer instanceof Layer.Activate activate) {
            return switch (activate.activation()) {
                case RELU -> Activation.reluBlock();
                case TANH -> Activation.tanhBlock();
                case SIGMOID -> Activation.sigmoidBlock();
            };
        }
        if (layer instanceof Layer.GlobalAveragePool) {
            return Pool.globalAvgPool2dBlock();
        }
        if (layer instanceof Layer.Flatten) {
            return Blocks.batchFlattenBlock();
        }
        throw new IllegalArgumentException("no DJL block for " + layer);
    }

    /**
     * Draws the initial weights from the plugin's own generator: He-uniform before a Relu,
     * Glorot-uniform otherwise; biases start at zero.
     */
    private void initialise(List<Block> parametric, SplittableRandom random) {
        List<Layer> layers = student.layers();
        int p = 0;
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i);
            if (!(layer instanceof Layer.Dense || layer instanceof Layer.Conv)) {
                continue;
            }
            boolean beforeRelu = i + 1 < layers.size() && layers.get(i + 1) instanceof Layer.Activate next
                    && next.activation() == io.modelpress.plugins.distillation.Activation.RELU;
            Block block = parametric.get(p++);
            Parameter weight = block.getParameters().get("weight");
            Parameter bias = block.getParameters().get("bias");
            long[] dims = weight.getArray().getShape().getShape();
            long receptive = 1;
            for (int d = 2; d < dims.length; d++) {
                receptive *= dims[d];
            }
            double fanIn = dims[1] * receptive;
            double fanOut = dims[0] * receptive;
            double bound = beforeRelu ? Math.sqrt(6 / fanIn) : Math.sqrt(6 / (fanIn + fanOut));
            float[] values = new float[Math.toIntExact(weight.getArray().size())];
            for (int v = 0; v < values.length; v++) {
                values[v] = (float) ((random.nextDouble() * 2 - 1) * bound);
            }
            weight.getArray().set(values);
            bias.getArray().set(new float[Math.toIntExact(bias.getArray().size())]);
        }
    }

    /** Weight and bias of every parametric layer, in order. */
    private static List<float[]> snapshot(List<Block> parametric) {
        List<float[]> values = new ArrayList<>();
        for (Block block : parametric) {
            values.add(block.getParameters().get("weight").getArray().toFloatArray());
            values.add(block.getParameters().get("bias").getArray().toFloatArray());
        }
        return values;
    }
}

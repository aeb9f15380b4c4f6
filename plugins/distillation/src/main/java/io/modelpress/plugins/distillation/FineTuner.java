package io.modelpress.plugins.distillation;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Trains the initializers of a {@link TrainableGraph} on a transfer set with DJL's PyTorch engine:
 * the engine computes the gradients, and the step is taken here, on primitive arrays, so that what
 * earlier steps imposed holds exactly: pruned positions stay zero, shared weights move as clusters
 * ({@link ConstrainedTensor}). Adam with an optional cosine schedule; L1, L2 and group-lasso
 * penalties on the weights; one held-out evaluation per epoch and the best epoch's weights kept. For
 * fine-tuning, epoch 0 (the weights as given) competes too, so it never returns a model that does worse
 * on the held-out rows than the one it was given. With {@code prune-to} the weights are also pruned
 * gradually while they train ({@link GradualPruning}); then only epochs that end at the final sparsity
 * compete, and early stopping waits for the schedule to end.
 *
 * <p>Deterministic for a seed: the batch order is the only randomness, drawn from the seed, and the
 * engine runs on the number of threads asked for. A time limit ends training at a batch boundary,
 * which depends on the machine's speed.
 */
final class FineTuner {

    private static final int EVALUATION_BATCH = 512;
    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;
    private static final double EPSILON = 1e-8;

    private final TrainableGraph graph;
    private final TransferSet data;
    private final Split split;
    private final RetrainSettings settings;
    private final PluginContext context;
    private final double progressFrom;
    private final double progressTo;
    private final List<ConstrainedTensor> tensors = new ArrayList<>();
    private final float[] soft;
    private final float[] logSoft;
    /** Pruning during training, or null. */
    private final GradualPruning pruning;

    /**
     * What training produced.
     *
     * @param values the kept epoch's values of every trainable initializer, by name
     * @param epochsRun epochs trained
     * @param bestEpoch the epoch whose weights are kept (0: the weights as given)
     * @param startScore held-out score of the weights as given
     * @param bestScore held-out score of the kept weights (accuracy on labels, else agreement with the targets)
     * @param stopReason why training ended
     * @param seconds time spent training
     * @param pruning what gradual pruning did, empty when it did not run
     * @param sparsity the final sparsity of the gradually pruned tensors, NaN when none were
     */
    record Result(Map<String, float[]> values, int epochsRun, int bestEpoch, double startScore, double bestScore,
            String stopReason, double seconds, String pruning, double sparsity) {
    }

    FineTuner(TrainableGraph graph, TransferSet data, Split split, RetrainSettings settings, PluginContext context,
            double progressFrom, double progressTo) throws PluginException {
        this.graph = Objects.requireNonNull(graph, "graph is null");
        this.data = Objects.requireNonNull(data, "data is null");
        this.split = Objects.requireNonNull(split, "split is null");
        this.settings = Objects.requireNonNull(settings, "settings is null");
        this.context = Objects.requireNonNull(context, "context is null");
        this.progressFrom = progressFrom;
        this.progressTo = progressTo;
        graph.trainables().forEach(trainable -> tensors.add(ConstrainedTensor.of(trainable)));
        this.soft = new float[data.teacherLogits().length];
        this.logSoft = new float[soft.length];
        StudentTrainer.softenTargets(data.teacherLogits(), data.classes(), settings.temperature(), soft, logSoft);
        this.pruning = settings.pruneTo() > 0
                ? GradualPruning.of(tensors, settings.pruneTo(), settings.pruneSteps(), settings.pruneUntil())
                : null;
    }

    List<ConstrainedTensor> tensors() {
        return List.copyOf(tensors);
    }

    Result train() throws PluginException {
        return PyTorch.run(this::train);
    }

    private Result train(Engine engine) throws PluginException {
        long started = System.nanoTime();
        engine.setRandomSeed((int) settings.seed());
        JniUtils.setNumThreads(settings.threads());
        SplittableRandom random = new SplittableRandom(settings.seed());
        double alpha = data.labelled() > 0 ? settings.alpha() : 1.0;
        DistillationLoss loss = new DistillationLoss(settings.temperature(), alpha);
        List<float[]> m = new ArrayList<>();
        List<float[]> v = new ArrayList<>();
        tensors.forEach(tensor -> {
            m.add(new float[tensor.freeCount()]);
            v.add(new float[tensor.freeCount()]);
        });
        try (NDManager root = engine.newBaseManager()) {
            EarlyStopping stopping = new EarlyStopping(settings.patience());
            double startScore = evaluate(root);
            // while pruning, the weights as given are denser than asked for: no candidate
            if (settings.givenIsCandidate() && pruning == null) {
                stopping.record(0, startScore, 0);
            }
            List<float[]> best = snapshot();
            int[] order = split.train();
            int batches = (order.length + settings.batchSize() - 1) / settings.batchSize();
            long steps = (long) batches * settings.epochs();
            long step = 0;
            int epoch = 0;
            String reason = "trained every epoch";
            while (epoch < settings.epochs()) {
                epoch++;
                Split.shuffle(order, random);
                boolean outOfTime = false;
                for (int b = 0; b < batches && !outOfTime; b++) {
                    context.checkCancelled();
                    int from = b * settings.batchSize();
                    int to = Math.min(order.length, from + settings.batchSize());
                    double rate = settings.schedule().at(settings.learningRate(), (double) step / steps);
                    step++;
                    step(root, loss, order, from, to, rate, step, m, v);
                    if (pruning != null && pruning.advance(step, steps)) {
                        compact(m, v);
                    }
                    context.progress(progress((epoch - 1 + (b + 1.0) / batches) / settings.epochs()),
                            "epoch " + epoch + " of " + settings.epochs() + ", batch " + (b + 1) + " of " + batches
                                    + (pruning == null ? "" : String.format(Locale.ROOT, ", sparsity %.1f%%",
                                            100 * pruning.sparsity())));
                    outOfTime = settings.timeLimitSeconds() > 0
                            && (System.nanoTime() - started) / 1e9 > settings.timeLimitSeconds();
                }
                boolean cutShort = outOfTime && pruning != null && !pruning.finished();
                if (cutShort) {
                    pruning.finish(step);
                    compact(m, v);
                }
                boolean settled = pruning == null || pruning.finished();
                double score = evaluate(root);
                context.progress(progress((double) epoch / settings.epochs()), String.format(Locale.ROOT,
                        "epoch %d of %d: held-out %s %.2f%%", epoch, settings.epochs(), scoreName(), 100 * score));
                // equal scores: the later epoch, which has seen more of the data, wins
                if (settled && stopping.record(epoch, score, -epoch)) {
                    best = snapshot();
                }
                if (outOfTime) {
                    reason = "stopped at the time limit of " + settings.timeLimitSeconds() + " s" + (cutShort
                            ? ", before the pruning schedule ended: the rest was pruned at once" : "");
                    break;
                }
                if (settled && stopping.exhausted(epoch) && epoch < settings.epochs()) {
                    reason = "stopped early after " + settings.patience() + " epochs without a better held-out result";
                    break;
                }
            }
            restore(best);
            Map<String, float[]> values = new LinkedHashMap<>();
            tensors.forEach(tensor -> values.put(tensor.name(), tensor.values()));
            return new Result(values, epoch, stopping.bestEpoch(), startScore, stopping.bestAgreement(), reason,
                    (System.nanoTime() - started) / 1e9, pruning == null ? "" : pruning.describe(steps),
                    pruning == null ? Double.NaN : pruning.sparsity());
        }
    }

    /** "accuracy" on labelled held-out rows, else "agreement" with the targets' top class. */
    String scoreName() {
        return heldOutLabelled() > 0 ? "accuracy" : "agreement";
    }

    private int heldOutLabelled() {
        int count = 0;
        for (int row : split.holdout()) {
            count += data.labels()[row] >= 0 ? 1 : 0;
        }
        return count;
    }

    private double progress(double share) {
        return Math.min(progressTo, progressFrom + (progressTo - progressFrom) * share);
    }

    /** One Adam step on rows {@code order[from, to)}. */
    private void step(NDManager root, DistillationLoss loss, int[] order, int from, int to, double rate, long step,
            List<float[]> m, List<float[]> v) throws PluginException {
        int count = to - from;
        int classes = data.classes();
        float[] oneHot = new float[count * classes];
        for (int i = 0; i < count; i++) {
            int label = data.labels()[order[from + i]];
            if (label >= 0) {
                oneHot[i * classes + label] = 1f;
            }
        }
        List<float[]> gradients = new ArrayList<>();
        try (NDManager batch = root.newSubManager()) {
            Map<String, NDArray> parameters = new HashMap<>();
            List<float[]> values = new ArrayList<>();
            for (ConstrainedTensor tensor : tensors) {
                float[] current = tensor.values();
                values.add(current);
                NDArray array = batch.create(current, new Shape(tensor.source().dims()));
                array.setRequiresGradient(true);
                parameters.put(tensor.name(), array);
            }
            Shape scores = new Shape(count, classes);
            NDList targets = new NDList(
                    batch.create(StudentTrainer.gatherRows(soft, classes, order, from, to), scores),
                    batch.create(StudentTrainer.gatherRows(logSoft, classes, order, from, to), scores),
                    batch.create(oneHot, scores));
            NDArray x = batch.create(StudentTrainer.gatherRows(data.inputs(), data.rowSize(), order, from, to),
                    shape(count));
            try (GradientCollector collector = batch.getEngine().newGradientCollector()) {
                NDArray logits = graph.forward(batch, x, parameters);
                collector.backward(loss.evaluate(targets, new NDList(logits)));
            }
            for (int t = 0; t < tensors.size(); t++) {
                float[] gradient = parameters.get(tensors.get(t).name()).getGradient().toFloatArray();
                penalise(tensors.get(t), values.get(t), gradient);
                gradients.add(tensors.get(t).freeGradient(gradient));
            }
        }
        double correction1 = 1 - Math.pow(BETA1, step);
        double correction2 = 1 - Math.pow(BETA2, step);
        for (int t = 0; t < tensors.size(); t++) {
            float[] g = gradients.get(t);
            float[] mt = m.get(t);
            float[] vt = v.get(t);
            ConstrainedTensor tensor = tensors.get(t);
            for (int k = 0; k < g.length; k++) {
                mt[k] = (float) (BETA1 * mt[k] + (1 - BETA1) * g[k]);
                vt[k] = (float) (BETA2 * vt[k] + (1 - BETA2) * g[k] * g[k]);
                double mHat = mt[k] / correction1;
                double vHat = vt[k] / correction2;
                tensor.add(k, (float) (-rate * mHat / (Math.sqrt(vHat) + EPSILON)));
            }
        }
    }

    /**
     * Adds the penalties' gradients to a weight's: L1 pushes every weight towards zero by the same
     * amount, L2 in proportion to its size, group lasso shrinks each output channel as a whole in
     * proportion to its norm, so that whole channels reach zero and structured pruning can remove them.
     */
    private void penalise(ConstrainedTensor tensor, float[] values, float[] gradient) {
        TrainableGraph.Trainable source = tensor.source();
        if (source.role() != TrainableGraph.Role.WEIGHT) {
            return;
        }
        float l1 = (float) settings.l1();
        float l2 = (float) settings.l2();
        if (l1 > 0 || l2 > 0) {
            for (int i = 0; i < values.length; i++) {
                gradient[i] += l2 * values[i] + l1 * Math.signum(values[i]);
            }
        }
        if (settings.groupLasso() > 0 && source.channels() > 0) {
            groupLasso(source, values, gradient, (float) settings.groupLasso());
        }
    }

    /** Adds {@code weight · w / ‖w_c‖} for every position of every output channel c with a non-zero norm. */
    static void groupLasso(TrainableGraph.Trainable source, float[] values, float[] gradient, float weight) {
        int channels = source.channels();
        // axis 0: [out, ...] (Conv, Gemm with transB); axis 1: [in, out] (MatMul, Gemm without transB)
        int inner = source.channelAxis() == 0 ? values.length / channels : 1;
        int stride = source.channelAxis() == 0 ? 1 : channels;
        int count = Math.toIntExact(values.length / channels);
        for (int c = 0; c < channels; c++) {
            int base = source.channelAxis() == 0 ? c * inner : c;
            double sum = 0;
            for (int j = 0; j < count; j++) {
                float value = values[base + j * stride];
                sum += value * value;
            }
            if (sum > 0) {
                float scale = (float) (weight / Math.sqrt(sum));
                for (int j = 0; j < count; j++) {
                    gradient[base + j * stride] += scale * values[base + j * stride];
                }
            }
        }
    }

    /** The held-out score of the current weights. */
    private double evaluate(NDManager root) throws PluginException {
        int[] rows = split.holdout();
        int classes = data.classes();
        boolean byLabels = heldOutLabelled() > 0;
        int right = 0;
        int counted = 0;
        try (NDManager batch = root.newSubManager()) {
            Map<String, NDArray> parameters = new HashMap<>();
            for (ConstrainedTensor tensor : tensors) {
                parameters.put(tensor.name(), batch.create(tensor.values(), new Shape(tensor.source().dims())));
            }
            for (int from = 0; from < rows.length; from += EVALUATION_BATCH) {
                int to = Math.min(rows.length, from + EVALUATION_BATCH);
                float[] logits;
                try (NDManager part = batch.newSubManager()) {
                    NDArray x = part.create(StudentTrainer.gatherRows(data.inputs(), data.rowSize(), rows, from, to),
                            shape(to - from));
                    logits = graph.forward(part, x, parameters).toFloatArray();
                }
                for (int i = 0; i < to - from; i++) {
                    int row = rows[from + i];
                    int top = StudentTrainer.argMax(logits, i * classes, classes);
                    int expected = byLabels ? data.labels()[row]
                            : StudentTrainer.argMax(data.teacherLogits(), row * classes, classes);
                    if (expected >= 0) {
                        counted++;
                        right += top == expected ? 1 : 0;
                    }
                }
            }
        }
        return counted == 0 ? 0 : (double) right / counted;
    }

    /** Drops pruned weights from the free values and from Adam's moments, which no longer need updating. */
    private void compact(List<float[]> m, List<float[]> v) {
        for (int t = 0; t < tensors.size(); t++) {
            int[] kept = tensors.get(t).compact();
            if (kept != null) {
                m.set(t, gather(m.get(t), kept));
                v.set(t, gather(v.get(t), kept));
            }
        }
    }

    private static float[] gather(float[] values, int[] indices) {
        float[] gathered = new float[indices.length];
        for (int k = 0; k < indices.length; k++) {
            gathered[k] = values[indices[k]];
        }
        return gathered;
    }

    private List<float[]> snapshot() {
        List<float[]> values = new ArrayList<>();
        tensors.forEach(tensor -> values.add(tensor.free()));
        return values;
    }

    private void restore(List<float[]> values) {
        for (int t = 0; t < tensors.size(); t++) {
            tensors.get(t).setFree(values.get(t));
        }
    }

    private Shape shape(long rows) {
        long[] row = data.rowShape();
        long[] dims = new long[row.length + 1];
        dims[0] = rows;
        System.arraycopy(row, 0, dims, 1, row.length);
        return new Shape(dims);
    }
}

package io.modelpress.plugins.distillation;

import io.modelpress.spi.PluginException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Gradual magnitude pruning during training (Zhu and Gupta, "To prune, or not to prune", 2017): the
 * sparsity of the pruned weights rises along the cubic schedule s_j = s_f + (s_i - s_f)(1 - j/n)^3 in
 * {@code n} small steps spread over the first part of training, while training goes on between them
 * with one learning-rate schedule; the rest of training runs at the final sparsity. Each step zeroes
 * the smallest magnitudes among the weights still free, over all pruned tensors at once (one
 * threshold), so masks only grow: a pruned weight never comes back.
 *
 * <p>The pruned tensors: those an earlier step already pruned (so its exclusions hold), or when none
 * has a zero, every unshared Gemm, MatMul and Conv weight of at least {@link #MIN_ELEMENTS} elements,
 * as magnitude pruning chooses by default. Deterministic: ties at the threshold go in tensor order,
 * then position order.
 */
final class GradualPruning {

    /** Smallest weight, in elements, worth pruning: magnitude pruning's default. */
    static final int MIN_ELEMENTS = 1024;

    private static final int HIGH_BUCKETS = 1 << 15;
    private static final int LOW_BUCKETS = 1 << 16;

    private final List<ConstrainedTensor> tensors;
    private final long total;
    private final long initialZeros;
    private final double target;
    private final int steps;
    private final double until;
    private int done;
    private long lastTrainingStep;

    private GradualPruning(List<ConstrainedTensor> tensors, double target, int steps, double until) {
        this.tensors = List.copyOf(tensors);
        this.total = tensors.stream().mapToLong(ConstrainedTensor::size).sum();
        this.initialZeros = zeros();
        this.target = target;
        this.steps = steps;
        this.until = until;
    }

    /**
     * Chooses the tensors to prune.
     *
     * @throws PluginException when no tensor can be pruned or the target is already met
     */
    static GradualPruning of(List<ConstrainedTensor> all, double target, int steps, double until)
            throws PluginException {
        Objects.requireNonNull(all, "all is null");
        List<ConstrainedTensor> layers = new ArrayList<>();
        List<ConstrainedTensor> alreadyPruned = new ArrayList<>();
        for (ConstrainedTensor tensor : all) {
            if (tensor.source().role() == TrainableGraph.Role.WEIGHT && tensor.source().channels() > 0
                    && !tensor.shared() && tensor.size() >= MIN_ELEMENTS) {
                layers.add(tensor);
                if (tensor.pruned() > 0) {
                    alreadyPruned.add(tensor);
                }
            }
        }
        if (layers.isEmpty()) {
            throw new PluginException("nothing to prune gradually: the model has no unshared Gemm, MatMul or Conv"
                    + " weight of at least " + MIN_ELEMENTS + " elements");
        }
        GradualPruning pruning = new GradualPruning(alreadyPruned.isEmpty() ? layers : alreadyPruned, target, steps,
                until);
        if (pruning.initialZeros >= Math.round(target * pruning.total)) {
            throw new PluginException(String.format(Locale.ROOT, "nothing to prune gradually: the %,d weights of the"
                    + " pruned tensors are already %.1f%% sparse, at or above prune-to %.1f%%", pruning.total,
                    100.0 * pruning.initialZeros / pruning.total, 100 * target));
        }
        return pruning;
    }

    /** The target sparsity after pruning step {@code j} of {@code n}: the cubic schedule, exactly s_f at j = n. */
    static double sparsityAt(double initial, double target, int j, int n) {
        double left = 1 - (double) j / n;
        return target + (initial - target) * left * left * left;
    }

    /** The training step (1-based) after which pruning step {@code j} of {@code n} runs. */
    static long trainingStep(int j, int n, double until, long trainingSteps) {
        return Math.max(1, (long) Math.ceil(until * trainingSteps * j / n - 1e-9));
    }

    /**
     * Runs every pruning step due by the end of training step {@code step} of {@code trainingSteps}.
     *
     * @return whether a step ran
     */
    boolean advance(long step, long trainingSteps) {
        boolean ran = false;
        while (done < steps && trainingStep(done + 1, steps, until, trainingSteps) <= step) {
            pruneStep(step);
            ran = true;
        }
        return ran;
    }

    /** Runs the steps left at once: training ends before the schedule does (a time limit). */
    void finish(long step) {
        while (done < steps) {
            pruneStep(step);
        }
    }

    boolean finished() {
        return done == steps;
    }

    /** The current sparsity of the pruned tensors. */
    double sparsity() {
        return (double) zeros() / total;
    }

    /** A line for the report: what was pruned, along which schedule, and when it ended. */
    String describe(long trainingSteps) {
        return String.format(Locale.ROOT, "pruned gradually during training: %d tensors (%,d weights) from %.1f%% to"
                + " %.1f%% sparse in %d steps along a cubic schedule over the first %.0f%% of the %,d training steps"
                + " (the last at step %,d); masks only grew, and the rest of training ran at the final sparsity",
                tensors.size(), total, 100.0 * initialZeros / total, 100 * sparsity(), steps, 100 * until,
                trainingSteps, lastTrainingStep);
    }

    private void pruneStep(long trainingStep) {
        done++;
        lastTrainingStep = trainingStep;
        double initial = (double) initialZeros / total;
        pruneTo(Math.round(sparsityAt(initial, target, done, steps) * total));
    }

    private long zeros() {
        long zeros = 0;
        for (ConstrainedTensor tensor : tensors) {
            zeros += tensor.pruned();
        }
        return zeros;
    }

    /**
     * Zeroes the smallest magnitudes among the free positions until {@code wanted} positions are zero. The k-th
     * smallest magnitude is found without sorting: non-negative floats order like their bits, so a histogram of the
     * high bits and then one of the low bits within the chosen bucket give it exactly.
     */
    private void pruneTo(long wanted) {
        long need = wanted - zeros();
        if (need <= 0) {
            return;
        }
        long[] high = new long[HIGH_BUCKETS];
        forEachFree((tensor, i, bits) -> high[bits >>> 16]++);
        int bucket = 0;
        long below = 0;
        while (below + high[bucket] < need) {
            below += high[bucket++];
        }
        long[] low = new long[LOW_BUCKETS];
        int chosen = bucket;
        forEachFree((tensor, i, bits) -> {
            if (bits >>> 16 == chosen) {
                low[bits & 0xFFFF]++;
            }
        });
        int lowBits = 0;
        while (below + low[lowBits] < need) {
            below += low[lowBits++];
        }
        int threshold = (bucket << 16) | lowBits;
        long[] ties = {need - below};
        forEachFree((tensor, i, bits) -> {
            if (bits < threshold) {
                tensor.prune(i);
            } else if (bits == threshold && ties[0] > 0) {
                tensor.prune(i);
                ties[0]--;
            }
        });
    }

    private interface PositionVisitor {
        void visit(ConstrainedTensor tensor, int position, int magnitudeBits);
    }

    /** Visits every free position with its magnitude's bits, in tensor order, then position order. */
    private void forEachFree(PositionVisitor visitor) {
        for (ConstrainedTensor tensor : tensors) {
            int size = tensor.size();
            for (int i = 0; i < size; i++) {
                if (!tensor.isPruned(i)) {
                    visitor.visit(tensor, i, Float.floatToRawIntBits(tensor.valueAt(i)) & 0x7FFFFFFF);
                }
            }
        }
    }
}

package io.modelpress.plugins.distillation;

import java.util.Arrays;
import java.util.Objects;

/**
 * A trainable tensor with what earlier steps imposed on it, read from its values alone: an exact
 * zero in a weight is a pruned position and stays zero (a mask); a weight with at most
 * {@link #MAX_SHARED} distinct non-zero values, each used at least twice on average, is shared: its
 * positions keep their cluster, the gradients of a cluster's members are summed and the cluster's
 * one value is updated (Deep Compression's codebook fine-tuning). Removed channels need nothing:
 * they are absent from the graph.
 *
 * <p>Training sees only the free values: one per unpruned position of a plain tensor, one per
 * cluster of a shared one; {@link #values()} spreads them back over the tensor.
 */
final class ConstrainedTensor {

    /** Most distinct values a shared tensor has: 8-bit indices. */
    static final int MAX_SHARED = 256;

    private final TrainableGraph.Trainable source;
    /** The free value of each position, -1 where the position is kept at zero. */
    private final int[] slot;
    private float[] free;
    private final boolean shared;
    private int pruned;

    private ConstrainedTensor(TrainableGraph.Trainable source, int[] slot, float[] free, boolean shared, int pruned) {
        this.source = source;
        this.slot = slot;
        this.free = free;
        this.shared = shared;
        this.pruned = pruned;
    }

    static ConstrainedTensor of(TrainableGraph.Trainable source) {
        Objects.requireNonNull(source, "source is null");
        float[] values = source.values();
        int[] slot = new int[values.length];
        if (source.role() != TrainableGraph.Role.WEIGHT) {
            for (int i = 0; i < slot.length; i++) {
                slot[i] = i;
            }
            return new ConstrainedTensor(source, slot, values, false, 0);
        }
        int pruned = 0;
        // The distinct non-zero values' bit patterns, sorted; one more than MAX_SHARED means "not shared".
        int[] distinct = new int[MAX_SHARED + 1];
        int clusters = 0;
        for (float value : values) {
            if (value == 0f) {
                pruned++;
            } else if (clusters <= MAX_SHARED) {
                int bits = Float.floatToIntBits(value);
                int at = Arrays.binarySearch(distinct, 0, clusters, bits);
                if (at < 0) {
                    int insert = -at - 1;
                    System.arraycopy(distinct, insert, distinct, insert + 1, clusters - insert);
                    distinct[insert] = bits;
                    clusters++;
                }
            }
        }
        int nonZero = values.length - pruned;
        boolean shared = clusters <= MAX_SHARED && nonZero >= 2 * clusters && nonZero > 0;
        float[] free = new float[shared ? clusters : nonZero];
        int next = 0;
        for (int i = 0; i < values.length; i++) {
            if (values[i] == 0f) {
                slot[i] = -1;
            } else if (shared) {
                slot[i] = Arrays.binarySearch(distinct, 0, clusters, Float.floatToIntBits(values[i]));
                free[slot[i]] = values[i];
            } else {
                slot[i] = next;
                free[next++] = values[i];
            }
        }
        return new ConstrainedTensor(source, slot, free, shared, pruned);
    }

    TrainableGraph.Trainable source() {
        return source;
    }

    String name() {
        return source.name();
    }

    boolean shared() {
        return shared;
    }

    /** Positions kept at zero. */
    int pruned() {
        return pruned;
    }

    /** How many values training moves: unpruned positions, or clusters. */
    int freeCount() {
        return free.length;
    }

    float[] free() {
        return free.clone();
    }

    void setFree(float[] values) {
        if (values.length != free.length) {
            throw new IllegalArgumentException(values.length + " free values for " + free.length);
        }
        System.arraycopy(values, 0, free, 0, free.length);
    }

    /** Positions in the whole tensor. */
    int size() {
        return slot.length;
    }

    /** Whether a position is kept at zero. */
    boolean isPruned(int position) {
        return slot[position] < 0;
    }

    /** The value at one position: its free value, 0 where pruned. */
    float valueAt(int position) {
        return slot[position] < 0 ? 0f : free[slot[position]];
    }

    /**
     * Keeps a position at zero from now on: a mask only grows, so a pruned weight never comes back.
     * Its free value stays in the free values, read by no position, until {@link #compact()}.
     */
    void prune(int position) {
        if (shared) {
            throw new IllegalStateException(name() + " is shared: its positions keep their clusters");
        }
        if (slot[position] >= 0) {
            free[slot[position]] = 0f;
            slot[position] = -1;
            pruned++;
        }
    }

    /**
     * Drops the free values no position reads any more, so that training stops updating them.
     *
     * @return for each free value kept, its index before; null when every free value is still read
     */
    int[] compact() {
        boolean[] read = new boolean[free.length];
        for (int s : slot) {
            if (s >= 0) {
                read[s] = true;
            }
        }
        int[] newIndex = new int[free.length];
        int[] kept = new int[free.length];
        int count = 0;
        for (int k = 0; k < free.length; k++) {
            if (read[k]) {
                newIndex[k] = count;
                kept[count++] = k;
            }
        }
        if (count == free.length) {
            return null;
        }
        float[] compacted = new float[count];
        for (int k = 0; k < count; k++) {
            compacted[k] = free[kept[k]];
        }
        for (int i = 0; i < slot.length; i++) {
            if (slot[i] >= 0) {
                slot[i] = newIndex[slot[i]];
            }
        }
        free = compacted;
        return Arrays.copyOf(kept, count);
    }

    /** Moves free value {@code k} by {@code delta}. */
    void add(int k, float delta) {
        free[k] += delta;
    }

    /** The whole tensor: free values spread over their positions, zeros where pruned. */
    float[] values() {
        float[] values = new float[slot.length];
        for (int i = 0; i < slot.length; i++) {
            values[i] = slot[i] < 0 ? 0f : free[slot[i]];
        }
        return values;
    }

    /** Sums per-position gradients into gradients of the free values; pruned positions add nothing. */
    float[] freeGradient(float[] positionGradient) {
        float[] gradient = new float[free.length];
        for (int i = 0; i < slot.length; i++) {
            if (slot[i] >= 0) {
                gradient[slot[i]] += positionGradient[i];
            }
        }
        return gradient;
    }

    @Override
    public String toString() {
        return name() + (shared ? " (shared, " + free.length + " values" : " (" + free.length + " free")
                + (pruned > 0 ? ", " + pruned + " pruned)" : ")") + Arrays.toString(source.dims());
    }
}

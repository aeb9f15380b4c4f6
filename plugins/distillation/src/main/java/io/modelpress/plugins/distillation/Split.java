package io.modelpress.plugins.distillation;

import io.modelpress.spi.PluginException;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Rows of the transfer set the student trains on, and the rows held out to measure it and to stop
 * early. Drawn with the seed, so a run can be repeated.
 *
 * @param train row indices to train on
 * @param holdout row indices held out
 */
record Split(int[] train, int[] holdout) {

    /** Fewest rows worth distilling from: some are held out, and the rest must teach something. */
    static final int MIN_ROWS = 10;

    Split {
        train = train.clone();
        holdout = holdout.clone();
    }

    @Override
    public int[] train() {
        return train.clone();
    }

    @Override
    public int[] holdout() {
        return holdout.clone();
    }

    static Split of(int rows, double fraction, long seed) throws PluginException {
        if (rows < MIN_ROWS) {
            throw new PluginException("the transfer set has " + rows + " rows; distillation needs at least " + MIN_ROWS
                    + " (some are held out to measure the student)");
        }
        int[] order = new int[rows];
        for (int i = 0; i < rows; i++) {
            order[i] = i;
        }
        shuffle(order, new SplittableRandom(seed));
        int held = (int) Math.min(rows - 1, Math.max(1, Math.round(rows * fraction)));
        int[] holdout = Arrays.copyOfRange(order, rows - held, rows);
        int[] train = Arrays.copyOfRange(order, 0, rows - held);
        Arrays.sort(holdout);
        return new Split(train, holdout);
    }

    static void shuffle(int[] values, SplittableRandom random) {
        for (int i = values.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = values[i];
            values[i] = values[j];
            values[j] = swap;
        }
    }
}

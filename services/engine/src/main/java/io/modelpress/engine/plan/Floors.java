package io.modelpress.engine.plan;

import io.modelpress.spi.HardwareProfile;

/**
 * Floors every output of a compressed model keeps against the original's, whatever the accuracy
 * budget: a drop of one point of top-1 can hide outputs that no longer mean anything (a recognizer
 * whose scores keep their arg-max on most positions while every line reads differently), and the
 * mean alone hides the sample that breaks.
 *
 * @param meanCosine lowest mean cosine over the judging samples, per output
 * @param worstCosine lowest cosine of any single judging sample, per output
 */
public record Floors(double meanCosine, double worstCosine) {

    /** When real data judges. */
    public static final Floors DEFAULT = new Floors(0.98, 0.90);

    /** When only generated inputs judge: they say little about real inputs, so more is asked of them. */
    public static final Floors GENERATED = new Floors(0.99, 0.95);

    public Floors {
        check("meanCosine", meanCosine);
        check("worstCosine", worstCosine);
    }

    /** The profile's floors, each absent one taken from {@link #DEFAULT}. */
    public static Floors of(HardwareProfile profile) {
        return new Floors(profile.minMeanCosine().orElse(DEFAULT.meanCosine),
                profile.minWorstCosine().orElse(DEFAULT.worstCosine));
    }

    /** Each floor the higher of the two. */
    public Floors stricter(Floors other) {
        return new Floors(Math.max(meanCosine, other.meanCosine), Math.max(worstCosine, other.worstCosine));
    }

    private static void check(String name, double value) {
        if (!(value >= 0 && value <= 1)) {
            throw new IllegalArgumentException(name + " floor must be a cosine from 0 to 1, not " + value);
        }
    }
}

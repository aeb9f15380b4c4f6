package io.modelpress.plugins.lowrank;

import java.util.Locale;

/**
 * How the rank of each layer is chosen: an explicit rank, a fraction of the largest possible
 * rank, or the smallest rank that keeps a fraction of the squared singular values (the energy).
 *
 * @param kind which rule
 * @param energy for {@link Kind#ENERGY}: fraction of the squared singular values to keep, in (0, 1)
 * @param ratio for {@link Kind#RATIO}: fraction of min(rows, cols), in (0, 1]
 * @param rank for {@link Kind#RANK}: the rank itself
 */
record RankRule(Kind kind, double energy, double ratio, int rank) {

    enum Kind {
        ENERGY,
        RATIO,
        RANK
    }

    static RankRule energy(double energy) {
        if (!(energy > 0 && energy < 1)) {
            throw new IllegalArgumentException("energy must be between 0 and 1 (exclusive), not " + energy);
        }
        return new RankRule(Kind.ENERGY, energy, 0, 0);
    }

    static RankRule ratio(double ratio) {
        if (!(ratio > 0 && ratio <= 1)) {
            throw new IllegalArgumentException("rank ratio must be in (0, 1], not " + ratio);
        }
        return new RankRule(Kind.RATIO, 0, ratio, 0);
    }

    static RankRule rank(int rank) {
        if (rank < 1) {
            throw new IllegalArgumentException("rank must be at least 1, not " + rank);
        }
        return new RankRule(Kind.RANK, 0, 0, rank);
    }

    /** Whether the rule can be applied to a matrix of this size at all (an explicit rank may not fit). */
    boolean fits(int rows, int cols) {
        return kind != Kind.RANK || rank <= Math.min(rows, cols);
    }

    /** The rank for a matrix with these singular values (descending); 0 for a zero matrix. */
    int choose(TruncatedSvd.Spectrum spectrum) {
        int full = Math.min(spectrum.rows(), spectrum.cols());
        double[] sigma = spectrum.singularValues();
        if (sigma.length == 0 || sigma[0] == 0) {
            return 0;
        }
        return switch (kind) {
            case RANK -> rank;
            case RATIO -> Math.max(1, Math.min(full, (int) Math.ceil(ratio * full - 1e-9)));
            case ENERGY -> {
                double total = spectrum.totalEnergy();
                double kept = 0;
                int r = 0;
                while (r < sigma.length && kept < energy * total) {
                    kept += sigma[r] * sigma[r];
                    r++;
                }
                yield Math.max(1, r);
            }
        };
    }

    String describe() {
        return switch (kind) {
            case ENERGY -> String.format(Locale.ROOT, "energy %s", energy);
            case RATIO -> String.format(Locale.ROOT, "rank ratio %s", ratio);
            case RANK -> "rank " + rank;
        };
    }
}

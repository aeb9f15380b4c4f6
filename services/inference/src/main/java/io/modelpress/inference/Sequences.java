package io.modelpress.inference;

import java.util.OptionalDouble;

/**
 * Scores per position ({@code [batch, positions, classes]}, as a CTC recognizer or a token
 * classifier writes them) read as sequences: each row's best classes decoded greedily as CTC does
 * (repeats merged, class 0 taken as the blank and dropped), the compressed model's sequence
 * compared with the original's. A recognizer that reads one character differently per line agrees
 * on most positions but on no line; these figures see that.
 */
final class Sequences {

    /** Class index a CTC head reserves for "no character" (PaddleOCR, and most CTC training code). */
    static final int BLANK = 0;

    private long sequences;
    private long identical;
    private long edits;
    private long referenceLength;

    /** Adds every row of one sample: {@code best} holds the arg-max class of each position, row after row. */
    void add(int[] expectedBest, int[] actualBest, int positions) {
        for (int from = 0; from + positions <= expectedBest.length; from += positions) {
            int[] expected = decode(expectedBest, from, positions);
            int[] actual = decode(actualBest, from, positions);
            sequences++;
            int distance = editDistance(expected, actual);
            identical += distance == 0 ? 1 : 0;
            edits += distance;
            referenceLength += expected.length;
        }
    }

    /** Share of sequences decoded exactly as the original's. */
    OptionalDouble agreement() {
        return sequences == 0 ? OptionalDouble.empty() : OptionalDouble.of((double) identical / sequences);
    }

    /** Edits that turn the original's decoded sequences into the compressed model's, per original symbol. */
    OptionalDouble characterErrorRate() {
        return sequences == 0 ? OptionalDouble.empty() : OptionalDouble.of((double) edits / Math.max(1, referenceLength));
    }

    /** Greedy CTC: merge repeated classes, then drop blanks. */
    static int[] decode(int[] best, int from, int count) {
        int[] out = new int[count];
        int length = 0;
        int previous = -1;
        for (int i = from; i < from + count; i++) {
            int symbol = best[i];
            if (symbol != previous && symbol != BLANK) {
                out[length++] = symbol;
            }
            previous = symbol;
        }
        return java.util.Arrays.copyOf(out, length);
    }

    /** Levenshtein distance, two rows of primitive ints. */
    static int editDistance(int[] a, int[] b) {
        int[] previous = new int[b.length + 1];
        int[] current = new int[b.length + 1];
        for (int j = 0; j <= b.length; j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length; i++) {
            current[0] = i;
            for (int j = 1; j <= b.length; j++) {
                int substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length];
    }
}

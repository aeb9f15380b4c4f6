package io.modelpress.cli;

import java.util.Locale;

/** Numbers for people. */
final class Format {

    private Format() {
    }

    /** One output's figures as compress and bench both print them. */
    static String fidelity(io.modelpress.inference.OutputFidelity output) {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "cosine %.6f (worst %.6f), max abs error %.3g",
                output.meanCosine(), output.minCosine(), output.maxAbsError()));
        output.top1Agreement().ifPresent(agreement -> line.append(String.format(Locale.ROOT, ", top-1 agreement %.1f%%",
                100 * agreement)));
        output.sequenceAgreement().ifPresent(agreement -> line.append(String.format(Locale.ROOT,
                ", decoded sequences alike %.1f%%", 100 * agreement)));
        output.characterErrorRate().ifPresent(cer -> line.append(String.format(Locale.ROOT, ", character error rate %.3f",
                cer)));
        return line.toString();
    }

    static String bytes(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        double value = bytes;
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }

    static String count(long count) {
        if (count < 10_000) {
            return Long.toString(count);
        }
        if (count < 10_000_000) {
            return String.format(Locale.ROOT, "%.1fK", count / 1e3);
        }
        return String.format(Locale.ROOT, "%.1fM", count / 1e6);
    }
}

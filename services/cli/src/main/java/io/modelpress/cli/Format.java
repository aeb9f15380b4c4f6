package io.modelpress.cli;

import java.util.Locale;

/** Numbers for people. */
final class Format {

    private Format() {
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

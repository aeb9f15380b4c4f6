package io.modelpress.spi;

import java.util.Locale;

/** Numeric precisions a target executes and a plugin's output computes in. */
public enum Precision {
    FP32,
    FP16,
    BF16,
    INT8,
    INT4;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Precision parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown precision '" + text + "'; valid: fp32, fp16, bf16, int8, int4");
        }
    }
}

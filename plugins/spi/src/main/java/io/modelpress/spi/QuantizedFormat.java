package io.modelpress.spi;

import java.util.Locale;

/**
 * How a target prefers quantized models written: QDQ (QuantizeLinear/DequantizeLinear pairs that
 * the runtime fuses) or operator form (MatMulInteger, QLinearConv and the like).
 */
public enum QuantizedFormat {
    QDQ,
    OPERATOR;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static QuantizedFormat parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown quantized format '" + text + "'; valid: qdq, operator");
        }
    }
}

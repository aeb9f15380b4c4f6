package io.modelpress.spi;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One option a plugin takes. Names are lowercase with dashes ({@code per-channel}); values are
 * given as text and checked against the type, range and choices before a plugin runs.
 *
 * @param name lowercase-with-dashes key
 * @param type value type
 * @param defaultValue the value when none is given, as text (empty for an empty list or text)
 * @param min smallest allowed number, inclusive ({@code -Infinity} when unbounded)
 * @param max largest allowed number, inclusive ({@code Infinity} when unbounded)
 * @param choices allowed values of a CHOICE option, or allowed items of a LIST option (empty: any)
 * @param description one line for people
 */
public record OptionSpec(String name, Type type, String defaultValue, double min, double max, List<String> choices,
        String description) {

    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9]*(-[a-z0-9]+)*");

    public enum Type {
        INTEGER,
        NUMBER,
        BOOLEAN,
        CHOICE,
        TEXT,
        /** Comma-separated values. */
        LIST;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public OptionSpec {
        Objects.requireNonNull(name, "name is null");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("option name '" + name + "' must be lowercase words joined by dashes");
        }
        Objects.requireNonNull(type, "type is null");
        Objects.requireNonNull(defaultValue, "defaultValue is null");
        choices = List.copyOf(choices);
        Objects.requireNonNull(description, "description is null");
        if (type == Type.CHOICE && choices.isEmpty()) {
            throw new IllegalArgumentException("choice option '" + name + "' lists no choices");
        }
    }

    public static OptionSpec integer(String name, long defaultValue, long min, long max, String description) {
        return new OptionSpec(name, Type.INTEGER, Long.toString(defaultValue), min, max, List.of(), description);
    }

    public static OptionSpec number(String name, double defaultValue, double min, double max, String description) {
        return new OptionSpec(name, Type.NUMBER, Double.toString(defaultValue), min, max, List.of(), description);
    }

    public static OptionSpec flag(String name, boolean defaultValue, String description) {
        return new OptionSpec(name, Type.BOOLEAN, Boolean.toString(defaultValue), Double.NEGATIVE_INFINITY,
                Double.POSITIVE_INFINITY, List.of(), description);
    }

    public static OptionSpec choice(String name, String defaultValue, List<String> choices, String description) {
        return new OptionSpec(name, Type.CHOICE, defaultValue, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY,
                choices, description);
    }

    public static OptionSpec text(String name, String defaultValue, String description) {
        return new OptionSpec(name, Type.TEXT, defaultValue, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY,
                List.of(), description);
    }

    /** A comma-separated list; {@code allowed} restricts the items (empty: any item). */
    public static OptionSpec list(String name, String defaultValue, List<String> allowed, String description) {
        return new OptionSpec(name, Type.LIST, defaultValue, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY,
                allowed, description);
    }

    /** "integer 2..8, default 8" — what a user needs to write a valid value. */
    public String usage() {
        StringBuilder text = new StringBuilder(type.label());
        if (type == Type.INTEGER || type == Type.NUMBER) {
            if (min != Double.NEGATIVE_INFINITY || max != Double.POSITIVE_INFINITY) {
                text.append(' ').append(bound(min)).append("..").append(bound(max));
            }
        }
        if (!choices.isEmpty()) {
            text.append(" of ").append(String.join("|", choices));
        }
        text.append(", default ").append(defaultValue.isEmpty() ? "none" : defaultValue);
        return text.toString();
    }

    private String bound(double value) {
        if (Double.isInfinite(value)) {
            return value < 0 ? "-inf" : "inf";
        }
        return type == Type.INTEGER || value == Math.rint(value) && Math.abs(value) < 1e15
                ? Long.toString((long) value) : Double.toString(value);
    }
}

package io.modelpress.spi;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A plugin's options after checking: every declared option has a value (given or default) of
 * its type and in its range. Made only by {@link #resolve}, so a plugin never sees a bad value.
 */
public final class PluginOptions {

    private final Map<String, Object> values;
    private final Map<String, String> text;

    private PluginOptions(Map<String, Object> values, Map<String, String> text) {
        this.values = Collections.unmodifiableMap(values);
        this.text = Collections.unmodifiableMap(text);
    }

    /**
     * Checks {@code given} against {@code specs} and fills in defaults.
     *
     * @throws OptionException naming the bad key or value and listing the valid options
     */
    public static PluginOptions resolve(List<OptionSpec> specs, Map<String, String> given) {
        Map<String, OptionSpec> byName = new LinkedHashMap<>();
        specs.forEach(spec -> byName.put(spec.name(), spec));
        for (String key : given.keySet()) {
            if (!byName.containsKey(key)) {
                throw new OptionException("unknown option '" + key + "'; " + validList(specs));
            }
        }
        Map<String, Object> values = new LinkedHashMap<>();
        Map<String, String> text = new LinkedHashMap<>();
        for (OptionSpec spec : specs) {
            boolean isGiven = given.containsKey(spec.name());
            String raw = isGiven ? given.get(spec.name()).trim() : spec.defaultValue();
            try {
                values.put(spec.name(), parse(spec, raw));
            } catch (OptionException e) {
                String source = isGiven ? "" : " (its default)";
                throw new OptionException("option '" + spec.name() + "' = '" + raw + "'" + source + " is invalid: "
                        + e.getMessage() + "; expected " + spec.usage());
            }
            text.put(spec.name(), raw);
        }
        return new PluginOptions(values, text);
    }

    /** The defaults of all options. */
    public static PluginOptions defaults(List<OptionSpec> specs) {
        return resolve(specs, Map.of());
    }

    public static String validList(List<OptionSpec> specs) {
        if (specs.isEmpty()) {
            return "this plugin takes no options";
        }
        return "valid options: " + specs.stream().map(spec -> spec.name() + " (" + spec.usage() + ")")
                .collect(Collectors.joining(", "));
    }

    public long integer(String name) {
        return (Long) get(name, OptionSpec.Type.INTEGER);
    }

    public int intValue(String name) {
        return Math.toIntExact(integer(name));
    }

    public double number(String name) {
        return (Double) get(name, OptionSpec.Type.NUMBER);
    }

    public boolean flag(String name) {
        return (Boolean) get(name, OptionSpec.Type.BOOLEAN);
    }

    /** The value of a CHOICE or TEXT option. */
    public String text(String name) {
        Object value = values.get(name);
        if (!(value instanceof String string)) {
            throw new IllegalArgumentException("option '" + name + "' is not a text or choice option");
        }
        return string;
    }

    @SuppressWarnings("unchecked")
    public List<String> list(String name) {
        return (List<String>) get(name, OptionSpec.Type.LIST);
    }

    /** Every option as the text it was resolved from, defaults included: what a report records. */
    public Map<String, String> asText() {
        return text;
    }

    private Object get(String name, OptionSpec.Type type) {
        Object value = values.get(name);
        if (value == null) {
            throw new IllegalArgumentException("no option '" + name + "' declared");
        }
        boolean matches = switch (type) {
            case INTEGER -> value instanceof Long;
            case NUMBER -> value instanceof Double;
            case BOOLEAN -> value instanceof Boolean;
            case LIST -> value instanceof List<?>;
            case CHOICE, TEXT -> value instanceof String;
        };
        if (!matches) {
            throw new IllegalArgumentException("option '" + name + "' is not of type " + type.label());
        }
        return value;
    }

    private static Object parse(OptionSpec spec, String raw) {
        return switch (spec.type()) {
            case INTEGER -> {
                long value;
                try {
                    value = Long.parseLong(raw);
                } catch (NumberFormatException e) {
                    throw new OptionException("not a whole number");
                }
                checkRange(spec, value);
                yield value;
            }
            case NUMBER -> {
                double value;
                try {
                    value = Double.parseDouble(raw);
                } catch (NumberFormatException e) {
                    throw new OptionException("not a number");
                }
                if (!Double.isFinite(value)) {
                    throw new OptionException("not a finite number");
                }
                checkRange(spec, value);
                yield value;
            }
            case BOOLEAN -> switch (raw.toLowerCase(Locale.ROOT)) {
                case "true", "yes", "on", "1" -> true;
                case "false", "no", "off", "0" -> false;
                default -> throw new OptionException("not true or false");
            };
            case CHOICE -> {
                if (!spec.choices().contains(raw)) {
                    throw new OptionException("not one of " + String.join(", ", spec.choices()));
                }
                yield raw;
            }
            case TEXT -> raw;
            case LIST -> {
                List<String> items = new ArrayList<>();
                if (!raw.isEmpty()) {
                    Arrays.stream(raw.split(",")).map(String::trim).filter(item -> !item.isEmpty()).forEach(items::add);
                }
                for (String item : items) {
                    if (!spec.choices().isEmpty() && !spec.choices().contains(item)) {
                        throw new OptionException("item '" + item + "' is not one of " + String.join(", ", spec.choices()));
                    }
                }
                yield List.copyOf(items);
            }
        };
    }

    private static void checkRange(OptionSpec spec, double value) {
        if (value < spec.min() || value > spec.max()) {
            throw new OptionException("out of range");
        }
    }
}

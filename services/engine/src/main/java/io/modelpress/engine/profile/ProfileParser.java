package io.modelpress.engine.profile;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.Precision;
import io.modelpress.spi.QuantizedFormat;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Turns one profile document into a {@link HardwareProfile}: read (YAML, or JSON for a
 * {@code .json} source), validate against the packaged schema, then map. Mapping only starts on a
 * document the schema accepted, so it can trust shapes and ranges.
 */
final class ProfileParser {

    /**
     * Budgets are written in mebibytes: memory is sized in binary units everywhere (RAM, SRAM,
     * flash, GPU memory), and a microcontroller's "1 MB" of flash is 1,048,576 bytes.
     */
    static final long BYTES_PER_MIB = 1024L * 1024L;
    static final int DEFAULT_BATCH_SIZE = 1;
    static final int DEFAULT_THREADS = 0;

    // A repeated key is refused: a YAML reader would otherwise keep the last one silently.
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private ProfileParser() {
    }

    static HardwareProfile parse(String source, String text) {
        Objects.requireNonNull(source, "source is null");
        Objects.requireNonNull(text, "text is null");
        JsonNode document = read(source, text);
        List<String> problems = ProfileSchema.get().validate(document);
        if (!problems.isEmpty()) {
            throw ProfileException.in(source, problems);
        }
        return toProfile(source, document);
    }

    private static JsonNode read(String source, String text) {
        boolean json = source.toLowerCase(Locale.ROOT).endsWith(".json");
        JsonNode document;
        try {
            document = (json ? JSON : YAML).readTree(text);
        } catch (JsonProcessingException e) {
            throw new ProfileException(source + ": " + unreadable(json ? "JSON" : "YAML", e));
        }
        if (document == null || document.isMissingNode() || document.isNull()) {
            throw new ProfileException(source + ": the file is empty");
        }
        return document;
    }

    /** {@code not valid YAML at line 3, column 9: mapping values are not allowed here}. */
    private static String unreadable(String format, JsonProcessingException e) {
        // SnakeYAML knows where the problem is better than Jackson's wrapper does, and says what
        // it was reading ("while scanning a quoted scalar") at a second place.
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof MarkedYAMLException yaml && yaml.getProblemMark() != null) {
                String line = "not valid " + format + " at " + at(yaml.getProblemMark()) + ": " + yaml.getProblem();
                if (yaml.getContext() != null && yaml.getContextMark() != null) {
                    line += " (" + yaml.getContext() + " started at " + at(yaml.getContextMark()) + ")";
                }
                return line;
            }
        }
        JsonLocation location = e.getLocation();
        String where = location == null ? ""
                : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
        // Jackson's messages may quote its own source description; the file name is already said.
        String problem = e.getOriginalMessage().replaceAll("\\[Source: [^;]*; ", "[");
        return "not valid " + format + where + ": " + problem;
    }

    private static String at(Mark mark) {
        return "line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1);
    }

    private static HardwareProfile toProfile(String source, JsonNode document) {
        Set<Precision> precisions = EnumSet.noneOf(Precision.class);
        document.get("precisions").forEach(precision -> precisions.add(Precision.parse(precision.textValue())));
        JsonNode budgets = document.path("budgets");
        return new HardwareProfile(
                document.get("id").textValue(),
                document.get("description").textValue().strip(),
                precisions,
                QuantizedFormat.parse(document.get("quantized-format").textValue()),
                document.get("execution-provider").textValue(),
                bytes(source, budgets, "memory-mb"),
                bytes(source, budgets, "size-mb"),
                budgets.has("latency-ms") ? OptionalDouble.of(budgets.get("latency-ms").doubleValue())
                        : OptionalDouble.empty(),
                document.get("max-accuracy-drop").doubleValue(),
                integer(source, document, "batch-size", DEFAULT_BATCH_SIZE),
                integer(source, document, "threads", DEFAULT_THREADS),
                optional(document.path("fidelity-floors"), "mean-cosine"),
                optional(document.path("fidelity-floors"), "worst-cosine"),
                document.path("require-real-data").asBoolean(false),
                operators(document));
    }

    /** The declared operator list, as written ({@code Conv}, {@code com.microsoft.QGemm}); absent when not declared. */
    private static Optional<Set<String>> operators(JsonNode document) {
        JsonNode list = document.get("operators");
        if (list == null) {
            return Optional.empty();
        }
        Set<String> names = new TreeSet<>();
        list.forEach(name -> names.add(name.textValue()));
        return Optional.of(names);
    }

    private static OptionalDouble optional(JsonNode parent, String field) {
        JsonNode value = parent.get(field);
        return value == null ? OptionalDouble.empty() : OptionalDouble.of(value.doubleValue());
    }

    /** MiB to bytes, exactly (no binary floating point), rounded down: a budget is a ceiling. */
    private static OptionalLong bytes(String source, JsonNode budgets, String field) {
        JsonNode value = budgets.get(field);
        if (value == null) {
            return OptionalLong.empty();
        }
        BigDecimal bytes = value.decimalValue().multiply(BigDecimal.valueOf(BYTES_PER_MIB))
                .setScale(0, RoundingMode.FLOOR);
        if (bytes.signum() <= 0) {
            throw new ProfileException(source + ": budgets." + field + ": " + ProfileSchema.show(value)
                    + " MiB is less than one byte");
        }
        if (bytes.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new ProfileException(source + ": budgets." + field + ": " + ProfileSchema.show(value)
                    + " MiB is more bytes than can be counted");
        }
        return OptionalLong.of(bytes.longValueExact());
    }

    // The schema says "integer", which admits numbers beyond Java's int.
    private static int integer(String source, JsonNode document, String field, int defaultValue) {
        JsonNode value = document.get(field);
        if (value == null) {
            return defaultValue;
        }
        if (!value.canConvertToInt()) {
            throw new ProfileException(source + ": " + field + ": " + ProfileSchema.show(value) + " is too large");
        }
        return value.intValue();
    }
}

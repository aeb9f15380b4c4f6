package io.modelpress.engine.job;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.JsonGeneratorDelegate;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * The one serialisation that identities (request and plan digests) are computed from: the same value
 * gives the same text in every JVM, on every machine and after every restart. Object properties and map
 * entries are sorted by name, set elements by their own canonical text, and floating-point numbers are
 * written from their exact binary value rounded to 17 significant digits (enough to tell every double
 * apart), never through {@code Double.toString}, whose digits changed between Java releases.
 */
public final class CanonicalJson {

    private static final MathContext DIGITS = new MathContext(17, RoundingMode.HALF_EVEN);

    private static final ObjectMapper JSON = JsonMapper.builder()
            .addModule(new Jdk8Module())
            .addModule(new SimpleModule("canonical-sets").addSerializer(new SortedSetSerializer()))
            .serializationInclusion(JsonInclude.Include.NON_ABSENT)
            .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .build();

    private CanonicalJson() {
    }

    /** The canonical text of a value: records, maps, collections, optionals, strings and numbers. */
    public static String write(Object value) {
        StringWriter out = new StringWriter();
        try (JsonGenerator generator = new FixedNumbers(JSON.getFactory().createGenerator(out))) {
            JSON.writeValue(generator, value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** The first {@code hexDigits} hex digits of the SHA-256 of the value's canonical text. */
    public static String digest(Object value, int hexDigits) {
        return sha256(write(value)).substring(0, hexDigits);
    }

    /** The SHA-256 of a text's UTF-8 bytes, lowercase hex. */
    public static String sha256(String text) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }

    /** A double as its exact value rounded to 17 significant digits, trailing zeros dropped: one text per double. */
    public static String number(double value) {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            return Double.toString(value);
        }
        BigDecimal exact = new BigDecimal(value).round(DIGITS).stripTrailingZeros();
        return exact.signum() == 0 ? "0" : exact.toString();
    }

    /** Routes every floating-point number, whichever serializer writes it, through {@link #number}. */
    private static final class FixedNumbers extends JsonGeneratorDelegate {

        FixedNumbers(JsonGenerator delegate) {
            super(delegate, false);
        }

        @Override
        public void writeNumber(double value) throws IOException {
            if (Double.isNaN(value) || Double.isInfinite(value)) {
                writeString(number(value));
            } else {
                delegate.writeNumber(number(value));
            }
        }

        @Override
        public void writeNumber(float value) throws IOException {
            writeNumber((double) value);
        }
    }

    /** A set in the order of its elements' canonical texts, whatever order the set iterates in. */
    @SuppressWarnings("rawtypes")
    private static final class SortedSetSerializer extends StdSerializer<Set> {

        SortedSetSerializer() {
            super(Set.class);
        }

        @Override
        public void serialize(Set set, JsonGenerator generator, SerializerProvider provider) throws IOException {
            List<String> elements = new ArrayList<>(set.size());
            for (Object element : set) {
                elements.add(write(element));
            }
            elements.sort(null);
            generator.writeStartArray();
            for (String element : elements) {
                generator.writeRawValue(element);
            }
            generator.writeEndArray();
        }
    }
}

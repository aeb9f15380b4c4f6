package io.modelpress.compressor;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A Kafka record as received, independent of the messaging framework.
 *
 * @param headers header values as UTF-8 text, in record order (the last value of a repeated header)
 */
public record IncomingRecord(String topic, int partition, long offset, Optional<String> key, Map<String, String> headers,
        byte[] value) {

    public IncomingRecord {
        Objects.requireNonNull(topic, "topic is null");
        Objects.requireNonNull(key, "key is null");
        headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
        value = value == null ? new byte[0] : value;
    }

    public Optional<String> header(String name) {
        return Optional.ofNullable(headers.get(name));
    }

    /** The value as text when it is valid UTF-8. */
    public Optional<String> text() {
        try {
            return Optional.of(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(value)).toString());
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }

    /** The record as a failure event carries it. */
    public Original original() {
        Optional<String> text = text();
        return new Original(topic, partition, offset, key, headers,
                text.orElseGet(() -> Base64.getEncoder().encodeToString(value)), text.isPresent() ? "utf-8" : "base64");
    }

    public record Original(String topic, int partition, long offset, Optional<String> key, Map<String, String> headers,
            String value, String valueEncoding) {
    }

    @Override
    public String toString() {
        return topic + "-" + partition + "@" + offset;
    }
}

package io.modelpress.compressor;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
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
        return utf8(value);
    }

    /**
     * The record as a failure event carries it: bounded, so that the event can always be published
     * (a producer refuses records over max.request.size). The value's sha256 and size are always
     * there; the value itself only up to {@code maxValueBytes}, cut at a character boundary, and
     * each header value up to {@link #MAX_HEADER_CHARS}.
     */
    public Original original(int maxValueBytes) {
        boolean truncated = value.length > maxValueBytes;
        byte[] kept = truncated ? Arrays.copyOf(value, utf8Boundary(value, maxValueBytes)) : value;
        Optional<String> text = utf8(kept);
        Map<String, String> shortHeaders = new LinkedHashMap<>();
        headers.entrySet().stream().limit(MAX_HEADERS).forEach(header -> shortHeaders.put(header.getKey(),
                header.getValue().length() > MAX_HEADER_CHARS ? header.getValue().substring(0, MAX_HEADER_CHARS)
                        : header.getValue()));
        String sha = HexFormat.of().formatHex(ObjectStore.sha256().digest(value));
        return new Original(topic, partition, offset, key.map(k -> k.length() > MAX_HEADER_CHARS
                ? k.substring(0, MAX_HEADER_CHARS) : k), shortHeaders,
                text.orElseGet(() -> Base64.getEncoder().encodeToString(kept)), text.isPresent() ? "utf-8" : "base64",
                value.length, sha, truncated);
    }

    /**
     * @param valueBytes the size of the whole value
     * @param valueSha256 the sha256 of the whole value
     * @param truncated whether {@code value} holds only the start of it
     */
    public record Original(String topic, int partition, long offset, Optional<String> key, Map<String, String> headers,
            String value, String valueEncoding, long valueBytes, String valueSha256, boolean truncated) {
    }

    /** Most header values a failure event carries, and most characters of each. */
    static final int MAX_HEADERS = 32;
    static final int MAX_HEADER_CHARS = 512;

    /** The largest length at most {@code max} that does not cut a UTF-8 character in two. */
    private static int utf8Boundary(byte[] bytes, int max) {
        int end = Math.max(0, max);
        while (end > 0 && end < bytes.length && (bytes[end] & 0xC0) == 0x80) {
            end--;
        }
        return end;
    }

    private static Optional<String> utf8(byte[] bytes) {
        try {
            return Optional.of(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString());
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }

    @Override
    public String toString() {
        return topic + "-" + partition + "@" + offset;
    }
}

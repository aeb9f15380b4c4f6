package io.modelpress.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/**
 * Reads a record as the compressor writes it: a CloudEvent in binary mode ({@code ce_*} headers,
 * JSON data as the value), or in structured mode (the whole event as JSON with its data inside).
 * Anything else is a {@link MalformedEvent} with a reason; the dashboard never trusts a record to be well formed.
 */
final class EventReader {

    private final ObjectMapper json;

    EventReader(ObjectMapper json) {
        this.json = json;
    }

    Event read(EventKind kind, ConsumerRecord<String, byte[]> record) throws MalformedEvent {
        if (record.value() == null || record.value().length == 0) {
            throw new MalformedEvent("an empty record");
        }
        JsonNode value;
        try {
            value = json.readTree(record.value());
        } catch (IOException e) {
            throw new MalformedEvent("not JSON: " + firstLine(e.getMessage()));
        }
        if (value == null || !value.isObject()) {
            throw new MalformedEvent("not a JSON object");
        }
        String contentType = header(record, "content-type");
        boolean structured = contentType != null && contentType.startsWith("application/cloudevents+json");
        JsonNode data = structured ? value.get("data") : value;
        if (data == null || !data.isObject()) {
            throw new MalformedEvent("a structured CloudEvent without JSON object data");
        }
        String modelId = text(data, "modelId");
        if (modelId == null) {
            modelId = kind == EventKind.FAILURE ? record.key() : null;
        }
        if (modelId == null || modelId.isBlank()) {
            throw new MalformedEvent("no modelId in the data");
        }
        String version = text(data, "version");
        if (version == null && kind != EventKind.FAILURE) {
            throw new MalformedEvent("no version in the data");
        }
        if ((kind == EventKind.RESULT || kind == EventKind.BENCHMARK) && text(data, "profile") == null) {
            throw new MalformedEvent("no profile in the data");
        }
        if (kind == EventKind.FAILURE && text(data, "reason") == null) {
            throw new MalformedEvent("a failure without a reason");
        }
        String ceTime = structured ? text(value, "time") : header(record, "ce_time");
        Instant time = time(text(data, kind.timeField()), ceTime, record.timestamp());
        return new Event(kind, modelId, version == null ? "" : version, time, data);
    }

    private static Instant time(String own, String ce, long recordMillis) throws MalformedEvent {
        for (String candidate : new String[] {own, ce}) {
            if (candidate != null) {
                try {
                    return Instant.parse(candidate);
                } catch (DateTimeParseException e) {
                    throw new MalformedEvent("not an ISO-8601 time: " + candidate);
                }
            }
        }
        return Instant.ofEpochMilli(Math.max(0, recordMillis));
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value != null && value.isTextual() ? value.asText() : null;
    }

    private static String header(ConsumerRecord<String, byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        int end = message.indexOf('\n');
        return end < 0 ? message : message.substring(0, end);
    }
}

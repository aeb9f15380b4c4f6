package io.modelpress.compressor;

import io.modelpress.common.EventSchemas;

/** The outgoing channels (topics are mapped to them in application.properties) and their CloudEvents types. */
public enum Topic {
    COMPRESSION_RESULTS("compression-results", "io.modelpress.compression.result", EventSchemas.COMPRESSION_RESULT),
    BENCHMARKS("benchmarks", "io.modelpress.benchmark", EventSchemas.BENCHMARK),
    PROGRESS("progress", "io.modelpress.compression.progress", EventSchemas.PROGRESS),
    FAILURES("failures", "io.modelpress.compression.failure", EventSchemas.FAILURE);

    private final String channel;
    private final String eventType;
    private final String schema;

    Topic(String channel, String eventType, String schema) {
        this.channel = channel;
        this.eventType = eventType;
        this.schema = schema;
    }

    public String channel() {
        return channel;
    }

    public String eventType() {
        return eventType;
    }

    public String schema() {
        return schema;
    }
}

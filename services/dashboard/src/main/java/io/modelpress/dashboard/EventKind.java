package io.modelpress.dashboard;

/** The four topics the dashboard reads, as channels (topics are mapped to them in application.properties). */
public enum EventKind {
    RESULT("compression-results", "completedAt"),
    BENCHMARK("benchmarks", "measuredAt"),
    PROGRESS("progress", "at"),
    FAILURE("failures", "failedAt");

    private final String channel;
    private final String timeField;

    EventKind(String channel, String timeField) {
        this.channel = channel;
        this.timeField = timeField;
    }

    public String channel() {
        return channel;
    }

    /** The data field that says when the event happened. */
    String timeField() {
        return timeField;
    }
}

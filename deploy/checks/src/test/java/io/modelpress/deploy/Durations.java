package io.modelpress.deploy;

import io.quarkus.runtime.configuration.DurationConverter;
import java.time.Duration;

/** Durations written the way the services read them (Quarkus' form: 90s, 10m, PT1H). */
final class Durations {

    private static final DurationConverter CONVERTER = new DurationConverter();

    private Durations() {
    }

    static Duration parse(String text) {
        return CONVERTER.convert(text);
    }
}

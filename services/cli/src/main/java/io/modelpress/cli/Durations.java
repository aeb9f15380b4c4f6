package io.modelpress.cli;

import io.modelpress.engine.EngineException;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as people write them: 90s, 10m, 1h. */
final class Durations {

    private static final Pattern TEXT = Pattern.compile("(\\d+)\\s*(s|m|h)");

    private Durations() {
    }

    static Duration parse(String option, String text) {
        Matcher matcher = TEXT.matcher(text.trim());
        if (!matcher.matches()) {
            throw new EngineException(option + " '" + text + "' is not a duration; write e.g. 90s, 10m or 1h");
        }
        long amount = Long.parseLong(matcher.group(1));
        return switch (matcher.group(2)) {
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            default -> Duration.ofHours(amount);
        };
    }
}

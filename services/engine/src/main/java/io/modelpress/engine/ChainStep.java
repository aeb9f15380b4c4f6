package io.modelpress.engine;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One step of a chain as a user writes it: a plugin id and option values as text.
 *
 * @param pluginId the plugin to run
 * @param options option values by name, not yet checked
 */
public record ChainStep(String pluginId, Map<String, String> options) {

    /** Where a new option starts in {@code key=value,key=value}: a comma followed by {@code key=}. */
    private static final Pattern NEXT_OPTION = Pattern.compile(",(?=\\s*[a-z][a-z0-9-]*\\s*=)");

    public ChainStep {
        Objects.requireNonNull(pluginId, "pluginId is null");
        options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
    }

    /**
     * Parses {@code id} or {@code id:key=value,key=value}. A value may itself hold commas (a list:
     * {@code exclude=fc1,fc2,bits=4}); a comma starts a new option only when {@code key=} follows.
     */
    public static ChainStep parse(String text) {
        String spec = text.trim();
        int colon = spec.indexOf(':');
        String id = colon < 0 ? spec : spec.substring(0, colon).trim();
        if (id.isEmpty()) {
            throw new EngineException("plugin step '" + text + "' names no plugin; write ID or ID:key=value,...");
        }
        Map<String, String> options = new LinkedHashMap<>();
        if (colon >= 0 && colon < spec.length() - 1) {
            for (String pair : NEXT_OPTION.split(spec.substring(colon + 1))) {
                int equals = pair.indexOf('=');
                if (equals <= 0) {
                    throw new EngineException("plugin step '" + text + "': '" + pair.trim()
                            + "' is not key=value; write ID:key=value,key=value");
                }
                String key = pair.substring(0, equals).trim();
                if (options.put(key, pair.substring(equals + 1).trim()) != null) {
                    throw new EngineException("plugin step '" + text + "' sets option '" + key + "' twice");
                }
            }
        }
        return new ChainStep(id, options);
    }

    @Override
    public String toString() {
        if (options.isEmpty()) {
            return pluginId;
        }
        StringBuilder text = new StringBuilder(pluginId).append(':');
        options.forEach((key, value) -> text.append(key).append('=').append(value).append(','));
        return text.substring(0, text.length() - 1);
    }
}

package io.modelpress.engine.plugin;

import io.modelpress.engine.EngineException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The plugin jars an operator vetted: each by file name and sha256. A jar in the plugins folder
 * that is not named here, or whose content changed since (another digest), is refused; plugins on
 * the class path are part of the installation and need no entry.
 *
 * <p>Entries are written {@code name.jar:SHA256}, separated by commas or new lines; a file may
 * also hold the lines {@code sha256sum *.jar} prints ({@code SHA256  name.jar}). Lines starting with
 * {@code #} are comments.
 */
public final class PluginAllowList {

    /** Where a user sets the list; named in every refusal so the fix is one look away. */
    public static final String SETTINGS = "MODELPRESS_PLUGINS_ALLOWED or MODELPRESS_PLUGINS_ALLOWED_FILE";

    /** Allows no jar: every jar in a plugins folder is refused. */
    public static final PluginAllowList NONE = new PluginAllowList(Map.of());

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private final Map<String, String> digests;

    private PluginAllowList(Map<String, String> digests) {
        this.digests = Collections.unmodifiableMap(new TreeMap<>(digests));
    }

    /** Entries {@code name.jar:SHA256} separated by commas or new lines; blank for none. */
    public static PluginAllowList parse(String entries) {
        Objects.requireNonNull(entries, "entries is null");
        Map<String, String> digests = new TreeMap<>();
        for (String entry : entries.split("[,\\n]")) {
            add(digests, entry, "plugin allow-list");
        }
        return new PluginAllowList(digests);
    }

    /** A file of entries, one a line: {@code name.jar:SHA256}, or {@code SHA256  name.jar} as sha256sum writes. */
    public static PluginAllowList read(Path file) {
        Objects.requireNonNull(file, "file is null");
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new EngineException("cannot read the plugin allow-list " + file + ": " + e.getMessage(), e);
        }
        Map<String, String> digests = new TreeMap<>();
        for (int i = 0; i < lines.size(); i++) {
            add(digests, lines.get(i), "plugin allow-list " + file + " line " + (i + 1));
        }
        return new PluginAllowList(digests);
    }

    /** Both lists; a jar named in both with different digests is an error, not a choice. */
    public PluginAllowList and(PluginAllowList other) {
        Map<String, String> union = new TreeMap<>(digests);
        other.digests.forEach((name, digest) -> put(union, name, digest, "plugin allow-list"));
        return new PluginAllowList(union);
    }

    /** The vetted jars by file name, each with its sha256. */
    public Map<String, String> entries() {
        return digests;
    }

    /** Why this jar may not load, or empty when the list names it with this digest. */
    public Optional<String> refusal(String jarName, String sha256) {
        String expected = digests.get(jarName);
        if (expected == null) {
            return Optional.of("not in the plugin allow-list (" + SETTINGS + "); its sha256 is " + sha256
                    + ", allow it with " + jarName + ":" + sha256 + " once you trust it");
        }
        if (!expected.equals(sha256)) {
            return Optional.of("sha256 mismatch: the plugin allow-list names " + expected + ", the jar's is " + sha256
                    + "; the jar changed since it was allowed");
        }
        return Optional.empty();
    }

    private static void add(Map<String, String> digests, String line, String where) {
        String entry = line.strip();
        if (entry.isEmpty() || entry.startsWith("#")) {
            return;
        }
        String name;
        String digest;
        int colon = entry.lastIndexOf(':');
        String[] words = entry.split("\\s+");
        if (words.length == 2 && SHA256.matcher(words[0].toLowerCase(Locale.ROOT)).matches()) {
            digest = words[0];
            name = words[1].startsWith("*") ? words[1].substring(1) : words[1]; // sha256sum's binary-mode mark
        } else if (colon > 0) {
            name = entry.substring(0, colon).strip();
            digest = entry.substring(colon + 1).strip();
        } else {
            throw new EngineException(where + ": '" + entry + "' is not NAME.jar:SHA256");
        }
        digest = digest.toLowerCase(Locale.ROOT);
        if (!name.endsWith(".jar") || name.contains("/") || name.contains("\\")) {
            throw new EngineException(where + ": '" + name + "' is not a jar file name (NAME.jar, no folder)");
        }
        if (!SHA256.matcher(digest).matches()) {
            throw new EngineException(where + ": the sha256 of " + name + " must be 64 hex digits, not '" + digest + "'");
        }
        put(digests, name, digest, where);
    }

    private static void put(Map<String, String> digests, String name, String digest, String where) {
        String earlier = digests.putIfAbsent(name, digest);
        if (earlier != null && !earlier.equals(digest)) {
            throw new EngineException(where + ": " + name + " is allowed twice with different sha256 (" + earlier
                    + " and " + digest + ")");
        }
    }

    @Override
    public String toString() {
        return digests.isEmpty() ? "no plugin jars allowed" : String.join(", ", digests.keySet());
    }
}

package io.modelpress.engine.profile;

import io.modelpress.spi.HardwareProfile;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The hardware profiles a server or a command line knows: the built-in ones, plus any a user
 * declared in a folder. An ordinary immutable object handed to whoever needs it (no global
 * registry), so a test or a second tenant can hold a different set.
 *
 * <p>Profiles are data validated by {@code schemas/hardware-profile.schema.json}. A user file
 * may replace a built-in profile by using its id ({@link #overridden()} says which were); two
 * user files may not declare the same id, since neither would be the obvious winner.
 */
public final class HardwareProfiles {

    /** Class path folder of the built-in profiles; {@code index.txt} there lists them. */
    public static final String BUILT_IN_FOLDER = "io/modelpress/engine/profiles/";

    private static final List<String> EXTENSIONS = List.of(".yaml", ".yml", ".json");

    private final Map<String, Entry> profiles;
    private final Set<String> overridden;

    private record Entry(HardwareProfile profile, String source) {
        Entry {
            Objects.requireNonNull(profile, "profile is null");
            Objects.requireNonNull(source, "source is null");
        }
    }

    private HardwareProfiles(Map<String, Entry> profiles, Set<String> overridden) {
        this.profiles = Collections.unmodifiableMap(new TreeMap<>(profiles));
        this.overridden = Collections.unmodifiableSet(new TreeSet<>(overridden));
    }

    /** The profiles that ship with modelpress: x86-vnni, arm64-edge, nvidia-fp16, mcu, wasm. */
    public static HardwareProfiles builtIn() {
        return new HardwareProfiles(readBuiltIns(), Set.of());
    }

    /**
     * The built-in profiles plus every {@code *.yaml}, {@code *.yml} and {@code *.json} file
     * directly in {@code userFolder} (not in sub-folders; hidden files such as editor backups
     * are skipped). Every bad file is reported in one {@link ProfileException}.
     */
    public static HardwareProfiles load(Path userFolder) {
        Objects.requireNonNull(userFolder, "userFolder is null");
        if (!Files.isDirectory(userFolder)) {
            throw new ProfileException(userFolder + ": the profile folder does not exist or is not a folder");
        }
        Map<String, Entry> user = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (Path file : profileFiles(userFolder)) {
            String source = file.toString();
            try {
                HardwareProfile profile = parse(source, Files.readString(file, StandardCharsets.UTF_8));
                Entry earlier = user.putIfAbsent(profile.id(), new Entry(profile, source));
                if (earlier != null) {
                    problems.add(source + ": id '" + profile.id() + "' is already declared by " + earlier.source());
                }
            } catch (ProfileException e) {
                problems.addAll(e.problems());
            } catch (IOException e) {
                problems.add(source + ": cannot read the file: " + describe(e));
            }
        }
        if (!problems.isEmpty()) {
            throw new ProfileException(problems);
        }
        Map<String, Entry> all = readBuiltIns();
        Set<String> overridden = new TreeSet<>();
        user.forEach((id, entry) -> {
            if (all.put(id, entry) != null) {
                overridden.add(id);
            }
        });
        return new HardwareProfiles(all, overridden);
    }

    /** A registry of exactly these profiles, e.g. for a test; duplicate ids are refused. */
    public static HardwareProfiles of(Collection<HardwareProfile> profiles) {
        Objects.requireNonNull(profiles, "profiles is null");
        Map<String, Entry> byId = new TreeMap<>();
        for (HardwareProfile profile : profiles) {
            Objects.requireNonNull(profile, "profile is null");
            if (byId.put(profile.id(), new Entry(profile, "code")) != null) {
                throw new ProfileException("profile id '" + profile.id() + "' is given twice");
            }
        }
        return new HardwareProfiles(byId, Set.of());
    }

    /**
     * Reads one profile document, YAML or (for a source name ending in {@code .json}) JSON, and
     * validates it against the schema.
     *
     * @param sourceName where the text came from, named first in every problem, e.g. {@code profiles/edge.yaml}
     * @throws ProfileException naming the source, the field and the reason for each problem
     */
    public static HardwareProfile parse(String sourceName, String yamlOrJsonText) {
        return ProfileParser.parse(sourceName, yamlOrJsonText);
    }

    /** All profiles, sorted by id. */
    public List<HardwareProfile> all() {
        return profiles.values().stream().map(Entry::profile).toList();
    }

    /** All ids, sorted. */
    public List<String> ids() {
        return List.copyOf(profiles.keySet());
    }

    public Optional<HardwareProfile> find(String id) {
        Objects.requireNonNull(id, "id is null");
        return Optional.ofNullable(profiles.get(id)).map(Entry::profile);
    }

    /** The profile with this id, or a {@link ProfileException} that lists the known ids. */
    public HardwareProfile require(String id) {
        return find(id).orElseThrow(() -> new ProfileException(
                "unknown profile '" + id + "'; known profiles: " + String.join(", ", profiles.keySet())));
    }

    /** Ids of built-in profiles that a user file replaced, sorted. */
    public Set<String> overridden() {
        return overridden;
    }

    /** Where a profile came from: a file path, a {@code classpath:} resource, or {@code code}. */
    public Optional<String> source(String id) {
        Objects.requireNonNull(id, "id is null");
        return Optional.ofNullable(profiles.get(id)).map(Entry::source);
    }

    @Override
    public String toString() {
        return "HardwareProfiles" + profiles.keySet() + (overridden.isEmpty() ? "" : " overridden " + overridden);
    }

    private static List<Path> profileFiles(Path folder) {
        try (Stream<Path> files = Files.list(folder)) {
            return files
                    .filter(file -> isProfileFileName(file.getFileName().toString()))
                    .filter(Files::isRegularFile)
                    // Sorted so that "already declared by" always names the same file first.
                    .sorted(Comparator.comparing(file -> file.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            throw new ProfileException(folder + ": cannot list the profile folder: " + describe(e));
        }
    }

    // Dot files are skipped: editors and macOS leave ".#edge.yaml" or "._edge.yaml" behind.
    private static boolean isProfileFileName(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return !name.startsWith(".") && EXTENSIONS.stream().anyMatch(lower::endsWith);
    }

    private static String describe(IOException e) {
        if (e instanceof CharacterCodingException) {
            return "it is not UTF-8 text";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + " " + e.getMessage();
    }

    // A class path cannot be listed portably (jar, Quarkus class loaders), hence index.txt.
    private static Map<String, Entry> readBuiltIns() {
        Map<String, Entry> byId = new TreeMap<>();
        for (String name : resourceLines(BUILT_IN_FOLDER + "index.txt")) {
            String source = "classpath:" + BUILT_IN_FOLDER + name;
            HardwareProfile profile = parse(source, resourceText(BUILT_IN_FOLDER + name));
            if (byId.put(profile.id(), new Entry(profile, source)) != null) {
                throw new IllegalStateException(source + ": built-in profile id '" + profile.id() + "' is declared twice");
            }
        }
        return byId;
    }

    private static List<String> resourceLines(String resource) {
        return resourceText(resource).lines()
                .map(String::strip)
                .filter(line -> !line.isEmpty() && !line.startsWith("#"))
                .toList();
    }

    private static String resourceText(String resource) {
        try (InputStream in = HardwareProfiles.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                // Only a broken build gets here.
                throw new IllegalStateException("resource " + resource + " is missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read resource " + resource, e);
        }
    }
}

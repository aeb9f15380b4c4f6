package io.modelpress.engine.data.raw;

import static java.util.Objects.requireNonNull;

import io.modelpress.engine.EngineException;
import io.modelpress.model.OnnxModel;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Raw data in one file, for a service that receives data by URI: a zip of images, text or WAV
 * files with a {@value #SETTINGS} entry that says how they become the model's data, with the keys
 * and values of {@code modelpress data}'s options:
 *
 * <pre>
 * kind=images            images, text or audio
 * source=pictures/       the folder (or file) in the archive holding the data; default: all of it
 * labels=folders         folders, or a CSV file in the archive
 * preset=imagenet        and width, height, channels, layout, order, fit, scale, mean, std
 * tokenizer=tokenizer.json, max-length=64          for text
 * sample-rate=16000, window=512, hop=256           for audio
 * input=x, limit=500
 * </pre>
 */
public final class RawArchive {

    /** The entry that marks an archive of raw data and holds its settings. */
    public static final String SETTINGS = "modelpress-data.properties";

    private static final Set<String> KEYS = Set.of("kind", "source", "labels", "input", "limit", "preset", "width", "height",
            "channels", "layout", "order", "fit", "scale", "mean", "std", "tokenizer", "max-length", "sample-rate", "window", "hop");

    private RawArchive() {
    }

    /** Whether the file is a zip with a {@value #SETTINGS} entry (an .npz has none). */
    public static boolean isRawArchive(Path file) {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            return zip.getEntry(SETTINGS) != null;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Unpacks the archive beside {@code out}, converts it as its settings say, writes {@code out}, and
     * removes what it unpacked.
     *
     * @param maxBytes the most the unpacked files may take
     */
    public static RawDataResult toNpz(Path archive, OnnxModel model, Path out, long maxBytes) {
        requireNonNull(archive, "archive is null");
        requireNonNull(model, "model is null");
        requireNonNull(out, "out is null");
        Path folder = out.toAbsolutePath().resolveSibling(out.getFileName() + ".raw");
        try {
            Properties settings = unpack(archive, folder, maxBytes);
            return convert(settings, folder, model, out);
        } finally {
            delete(folder);
        }
    }

    private static RawDataResult convert(Properties settings, Path folder, OnnxModel model, Path out) {
        Set<String> unknown = new TreeSet<>(settings.stringPropertyNames());
        unknown.removeAll(KEYS);
        if (!unknown.isEmpty()) {
            throw new EngineException(SETTINGS + ": unknown key" + (unknown.size() == 1 ? " " : "s ") + unknown
                    + "; valid: " + new TreeSet<>(KEYS));
        }
        Path source = inside(folder, settings.getProperty("source", "."), "source");
        String labels = settings.getProperty("labels", "");
        LabelSource labelSource = labels.isEmpty() ? LabelSource.none()
                : labels.equals("folders") ? LabelSource.folders() : LabelSource.csv(inside(folder, labels, "labels"));
        RawData.Request request = new RawData.Request(source, labelSource, Optional.ofNullable(settings.getProperty("input")),
                integer(settings, "limit").orElse(0), out);
        String kind = settings.getProperty("kind", "");
        return switch (kind) {
            case "images" -> RawData.images(model, request, imageOptions(settings));
            case "text" -> RawData.text(model, request, inside(folder, required(settings, "tokenizer"), "tokenizer"),
                    integer(settings, "max-length"));
            case "audio" -> RawData.audio(model, request, new AudioOptions(integer(settings, "sample-rate").orElse(16_000),
                    integer(settings, "window"), integer(settings, "hop")));
            default -> throw new EngineException(SETTINGS + ": kind must be images, text or audio, not '" + kind + "'");
        };
    }

    private static ImageOptions imageOptions(Properties settings) {
        ImageOptions options = settings.containsKey("preset") ? ImageOptions.preset(settings.getProperty("preset"))
                : ImageOptions.defaults();
        OptionalInt width = integer(settings, "width");
        OptionalInt height = integer(settings, "height");
        OptionalInt channels = integer(settings, "channels");
        if (width.isPresent()) {
            options = options.withWidth(width.getAsInt());
        }
        if (height.isPresent()) {
            options = options.withHeight(height.getAsInt());
        }
        if (channels.isPresent()) {
            options = options.withChannels(channels.getAsInt());
        }
        if (settings.containsKey("layout")) {
            options = options.withLayout(choice(ImageOptions.Layout.class, settings, "layout"));
        }
        if (settings.containsKey("order")) {
            options = options.withOrder(choice(ImageOptions.ChannelOrder.class, settings, "order"));
        }
        if (settings.containsKey("fit")) {
            options = options.withFit(choice(ImageOptions.Fit.class, settings, "fit"));
        }
        if (settings.containsKey("scale") || settings.containsKey("mean") || settings.containsKey("std")) {
            options = options.withNormalization(settings.containsKey("scale") ? number(settings, "scale") : options.scale(),
                    settings.containsKey("mean") ? numbers(settings, "mean") : options.mean(),
                    settings.containsKey("std") ? numbers(settings, "std") : options.std());
        }
        return options;
    }

    private static <E extends Enum<E>> E choice(Class<E> type, Properties settings, String key) {
        String value = settings.getProperty(key).trim();
        try {
            return Enum.valueOf(type, value.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new EngineException(SETTINGS + ": " + key + " takes " + Arrays.toString(type.getEnumConstants()).toLowerCase(
                    java.util.Locale.ROOT) + ", not '" + value + "'");
        }
    }

    private static OptionalInt integer(Properties settings, String key) {
        String value = settings.getProperty(key);
        if (value == null) {
            return OptionalInt.empty();
        }
        try {
            return OptionalInt.of(Integer.parseInt(value.trim()));
        } catch (NumberFormatException e) {
            throw new EngineException(SETTINGS + ": " + key + " must be a whole number, not '" + value + "'");
        }
    }

    private static double number(Properties settings, String key) {
        try {
            return Double.parseDouble(settings.getProperty(key).trim());
        } catch (NumberFormatException e) {
            throw new EngineException(SETTINGS + ": " + key + " must be a number, not '" + settings.getProperty(key) + "'");
        }
    }

    private static double[] numbers(Properties settings, String key) {
        try {
            return Arrays.stream(settings.getProperty(key).split(",")).map(String::trim).mapToDouble(Double::parseDouble).toArray();
        } catch (NumberFormatException e) {
            throw new EngineException(SETTINGS + ": " + key + " must be numbers separated by commas, not '"
                    + settings.getProperty(key) + "'");
        }
    }

    private static String required(Properties settings, String key) {
        String value = settings.getProperty(key);
        if (value == null || value.isBlank()) {
            throw new EngineException(SETTINGS + ": kind " + settings.getProperty("kind") + " needs " + key);
        }
        return value.trim();
    }

    /** A path named in the settings, which must stay inside the unpacked folder. */
    private static Path inside(Path folder, String name, String key) {
        Path path = folder.resolve(name.trim()).normalize();
        if (!path.startsWith(folder)) {
            throw new EngineException(SETTINGS + ": " + key + " '" + name + "' points outside the archive");
        }
        if (!Files.exists(path)) {
            throw new EngineException(SETTINGS + ": " + key + " '" + name + "' is not in the archive");
        }
        return path;
    }

    /** Unpacks every entry, refusing names that leave the folder and more bytes than allowed; returns the settings. */
    private static Properties unpack(Path archive, Path folder, long maxBytes) {
        Properties settings = new Properties();
        try (ZipFile zip = new ZipFile(archive.toFile())) {
            ZipEntry settingsEntry = zip.getEntry(SETTINGS);
            if (settingsEntry == null) {
                throw new EngineException(archive + " has no " + SETTINGS + " entry: not an archive of raw data");
            }
            try (Reader in = new java.io.InputStreamReader(zip.getInputStream(settingsEntry), StandardCharsets.UTF_8)) {
                settings.load(in);
            }
            Files.createDirectories(folder);
            long total = 0;
            byte[] buffer = new byte[1 << 16];
            for (Enumeration<? extends ZipEntry> entries = zip.entries(); entries.hasMoreElements(); ) {
                ZipEntry entry = entries.nextElement();
                Path target = folder.resolve(entry.getName()).normalize();
                if (!target.startsWith(folder) || target.equals(folder)) {
                    throw new EngineException(archive + ": entry '" + entry.getName() + "' points outside the archive");
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(target);
                    continue;
                }
                Files.createDirectories(target.getParent());
                try (InputStream in = zip.getInputStream(entry); OutputStream copy = Files.newOutputStream(target)) {
                    for (int read; (read = in.read(buffer)) > 0; ) {
                        total += read;
                        if (total > maxBytes) {
                            throw new EngineException(archive + " unpacks to more than " + maxBytes + " bytes");
                        }
                        copy.write(buffer, 0, read);
                    }
                }
            }
        } catch (ZipException e) {
            throw new EngineException(archive + " is not a zip archive (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw new EngineException("cannot unpack " + archive + ": " + e.getMessage(), e);
        }
        return settings;
    }

    private static void delete(Path folder) {
        if (!Files.exists(folder)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(folder)) {
            List<Path> paths = walk.sorted(Comparator.reverseOrder()).toList();
            for (Path path : paths) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            // a leftover in the work folder is removed with it later; the data is written already
        }
    }
}

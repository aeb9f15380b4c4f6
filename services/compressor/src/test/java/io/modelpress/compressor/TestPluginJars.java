package io.modelpress.compressor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Plugin jars as a third party drops them in the plugins folder, made from the compiled test plugins. */
final class TestPluginJars {

    private TestPluginJars() {
    }

    /** A jar declaring these plugin classes, copied from the test classes. */
    static Path write(Path jar, List<Class<?>> plugins) throws IOException {
        Files.createDirectories(jar.getParent());
        Path classes;
        try {
            classes = Path.of(plugins.get(0).getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IOException(e);
        }
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new JarEntry("META-INF/services/io.modelpress.spi.CompressionPlugin"));
            out.write(plugins.stream().map(plugin -> plugin.getName() + "\n").collect(Collectors.joining())
                    .getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
            for (Class<?> plugin : plugins) {
                String entry = plugin.getName().replace('.', '/') + ".class";
                out.putNextEntry(new JarEntry(entry));
                out.write(Files.readAllBytes(classes.resolve(entry)));
                out.closeEntry();
            }
        }
        return jar;
    }

    /** {@code MODELPRESS_PLUGINS_ALLOWED} naming every jar of the folder with its sha256: an operator who vetted them all. */
    static String allowingAll(Path folder) {
        try (Stream<Path> files = Files.list(folder)) {
            List<Path> jars = files.filter(file -> file.toString().endsWith(".jar")).sorted().toList();
            StringBuilder entries = new StringBuilder();
            for (Path jar : jars) {
                entries.append(entries.length() == 0 ? "" : ",").append(jar.getFileName()).append(':').append(sha256(jar));
            }
            return entries.toString();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the plugin jars of " + folder, e);
        }
    }

    static String sha256(Path file) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

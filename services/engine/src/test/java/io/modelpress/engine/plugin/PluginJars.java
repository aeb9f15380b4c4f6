package io.modelpress.engine.plugin;

import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CompressionPlugin;
import java.io.IOException;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/** Builds real plugin jars during a test: Java source compiled against the SPI jar, packed with its service file. */
final class PluginJars {

    private PluginJars() {
    }

    /**
     * Compiles {@code source} (a public class {@code className} in package {@code test.plugins})
     * and writes a jar declaring it as a {@link CompressionPlugin}.
     */
    static Path build(Path folder, String jarName, String className, String source) throws IOException {
        return build(folder, jarName, className, source, java.util.Map.of(), null);
    }

    /**
     * As {@link #build(Path, String, String, String)}, with extra entries (name to content) and, when
     * not null, a manifest Class-Path.
     */
    static Path build(Path folder, String jarName, String className, String source, java.util.Map<String, byte[]> extra,
            String manifestClassPath) throws IOException {
        Path work = Files.createTempDirectory(folder.getParent(), "plugin-src-");
        Path sourceFile = work.resolve("test/plugins/" + className + ".java");
        Files.createDirectories(sourceFile.getParent());
        Files.writeString(sourceFile, source);
        Path classes = work.resolve("classes");
        Files.createDirectories(classes);
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        StringWriter diagnostics = new StringWriter();
        String classPath = location(CompressionPlugin.class) + java.io.File.pathSeparator + location(OnnxModel.class)
                + java.io.File.pathSeparator + location(ai.onnx.proto.OnnxMl.class)
                + java.io.File.pathSeparator + location(com.google.protobuf.Message.class);
        boolean compiled = compiler.getTask(diagnostics, null, null,
                List.of("--release", "17", "-classpath", classPath, "-d", classes.toString()), null,
                compiler.getStandardFileManager(null, null, StandardCharsets.UTF_8)
                        .getJavaFileObjects(sourceFile.toFile())).call();
        if (!compiled) {
            throw new IllegalStateException("test plugin does not compile: " + diagnostics);
        }
        Files.createDirectories(folder);
        Path jar = folder.resolve(jarName);
        java.util.jar.Manifest manifest = new java.util.jar.Manifest();
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        if (manifestClassPath != null) {
            manifest.getMainAttributes().put(java.util.jar.Attributes.Name.CLASS_PATH, manifestClassPath);
        }
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            for (java.util.Map.Entry<String, byte[]> entry : extra.entrySet()) {
                out.putNextEntry(new JarEntry(entry.getKey()));
                out.write(entry.getValue());
                out.closeEntry();
            }
            out.putNextEntry(new JarEntry("META-INF/services/" + CompressionPlugin.class.getName()));
            out.write(("test.plugins." + className + "\n").getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
            List<Path> files;
            try (Stream<Path> walk = Files.walk(classes)) {
                files = new ArrayList<>(walk.filter(Files::isRegularFile).toList());
            }
            for (Path file : files) {
                out.putNextEntry(new JarEntry(classes.relativize(file).toString().replace('\\', '/')));
                Files.copy(file, out);
                out.closeEntry();
            }
        }
        return jar;
    }

    /** An allow-list naming every jar of the folder with its sha256, as {@code sha256sum *.jar} writes it. */
    static PluginAllowList allowAll(Path folder) throws IOException {
        StringBuilder lines = new StringBuilder("# vetted plugin jars\n");
        try (Stream<Path> jars = Files.list(folder)) {
            for (Path jar : jars.filter(file -> file.toString().endsWith(".jar")).sorted().toList()) {
                lines.append(sha256(jar)).append("  ").append(jar.getFileName()).append('\n');
            }
        }
        Path file = Files.createTempFile(folder.getParent(), "allowed-", ".txt");
        Files.writeString(file, lines);
        return PluginAllowList.read(file);
    }

    static String sha256(Path file) throws IOException {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(Files.readAllBytes(file)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Source of a plugin with this id, SPI version expression and apply body (which sees model, options, context). */
    static String plugin(String className, String id, String spiVersion, String applyBody) {
        return """
                package test.plugins;

                import io.modelpress.model.OnnxModel;
                import io.modelpress.spi.*;
                import java.util.List;

                public final class %s implements CompressionPlugin {
                    public String id() { return "%s"; }
                    public String version() { return "0.0.1"; }
                    public int spiVersion() { return %s; }
                    public Technique technique() { return Technique.GRAPH_OPTIMIZATION; }
                    public String description() { return "a plugin built by a test"; }
                    public List<OptionSpec> options() {
                        return List.of(OptionSpec.integer("level", 1, 0, 3, "how hard to try"));
                    }
                    public PluginResult apply(OnnxModel model, PluginOptions options, PluginContext context)
                            throws PluginException {
                        %s
                    }
                }
                """.formatted(className, id, spiVersion, applyBody);
    }

    private static String location(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}

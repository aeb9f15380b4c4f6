package io.modelpress.engine.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.ChainStep;
import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.CompressionReport;
import io.modelpress.engine.CompressionRequest;
import io.modelpress.engine.EngineException;
import io.modelpress.engine.ProgressListener;
import io.modelpress.engine.TestProfiles;
import io.modelpress.model.LoadLimits;
import io.modelpress.model.SaveOptions;
import io.modelpress.testkit.TestModels;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Plugin jars load only when the allow-list names them with their sha256, and never with an ONNX Runtime of their own. */
class PluginAllowListTest {

    /** Returns the model; says whether ONNX Runtime's Java API is visible to it (it must not be). */
    private static final String PROBING_BODY = """
            boolean seesRuntime;
            try {
                Class.forName("ai.onnxruntime.OrtEnvironment", false, getClass().getClassLoader());
                seesRuntime = true;
            } catch (ClassNotFoundException e) {
                seesRuntime = false;
            }
            return PluginResult.builder(model).figure("sees-runtime", seesRuntime ? 1 : 0).build();
            """;

    @TempDir
    Path temp;

    @Test
    void anUnlistedJarIsRefusedWithItsDigestAndBuiltInsStayUsable() throws IOException {
        Path plugins = temp.resolve("plugins");
        Path jar = PluginJars.build(plugins, "probe.jar", "Probe", PluginJars.plugin("Probe", "probe", "PluginSpi.VERSION",
                PROBING_BODY));
        PluginRegistry registry = PluginRegistry.discover(getClass().getClassLoader(), Optional.of(plugins),
                PluginAllowList.parse(""));

        assertTrue(registry.find("probe").isEmpty(), "an unlisted jar does not load");
        assertEquals(1, registry.rejected().size(), registry.rejected().toString());
        RejectedPlugin refused = registry.rejected().get(0);
        assertEquals(Optional.of(jar), refused.source().jar());
        assertEquals("not in the plugin allow-list (MODELPRESS_PLUGINS_ALLOWED or MODELPRESS_PLUGINS_ALLOWED_FILE); its"
                + " sha256 is " + PluginJars.sha256(jar) + ", allow it with probe.jar:" + PluginJars.sha256(jar)
                + " once you trust it", refused.reason());
        assertTrue(registry.find("graph-cleanup").isPresent(), "built-in plugins need no entry");
    }

    @Test
    void aListedJarWithAnotherSha256IsRefused() throws IOException {
        Path plugins = temp.resolve("plugins");
        Path jar = PluginJars.build(plugins, "probe.jar", "Probe", PluginJars.plugin("Probe", "probe", "PluginSpi.VERSION",
                PROBING_BODY));
        String vetted = "0".repeat(64);
        PluginRegistry registry = PluginRegistry.discover(getClass().getClassLoader(), Optional.of(plugins),
                PluginAllowList.parse("probe.jar:" + vetted));

        assertTrue(registry.find("probe").isEmpty());
        assertEquals("sha256 mismatch: the plugin allow-list names " + vetted + ", the jar's is " + PluginJars.sha256(jar)
                + "; the jar changed since it was allowed", registry.rejected().get(0).reason());
    }

    @Test
    void aListedJarLoadsRunsAndCannotSeeOnnxRuntime() throws IOException {
        Path plugins = temp.resolve("plugins");
        Path jar = PluginJars.build(plugins, "probe.jar", "Probe", PluginJars.plugin("Probe", "probe", "PluginSpi.VERSION",
                PROBING_BODY));
        String digest = PluginJars.sha256(jar);
        PluginRegistry registry = PluginRegistry.discover(getClass().getClassLoader(), Optional.of(plugins),
                PluginAllowList.parse(" other.jar:" + "1".repeat(64) + ", probe.jar:" + digest.toUpperCase()));

        LoadedPlugin probe = registry.require("probe");
        assertEquals(Optional.of(digest), probe.source().sha256());
        assertTrue(registry.rejected().isEmpty(), registry.rejected().toString());
        CompressionReport report = compress(registry, List.of(ChainStep.parse("probe")));
        assertEquals("done", report.steps().get(0).status(), () -> report.steps().get(0).error().orElse(""));
        assertEquals(0.0, report.steps().get(0).figures().get("sees-runtime"),
                "a plugin jar reaches ONNX Runtime only through PluginContext.runner");
    }

    @Test
    void theVettedCopyIsMadeInTheFolderGivenAndLoadedFromThere() throws Exception {
        Path plugins = temp.resolve("plugins");
        Path jar = PluginJars.build(plugins, "probe.jar", "Probe", PluginJars.plugin("Probe", "probe", "PluginSpi.VERSION",
                PROBING_BODY));
        Path work = temp.resolve("work/run-1");
        PluginRegistry registry = PluginRegistry.discover(getClass().getClassLoader(), Optional.of(plugins),
                PluginAllowList.parse("probe.jar:" + PluginJars.sha256(jar)), Optional.of(work));

        Path loadedFrom = Path.of(registry.require("probe").plugin().getClass().getProtectionDomain().getCodeSource()
                .getLocation().toURI());
        assertTrue(loadedFrom.startsWith(work), () -> "loaded from " + loadedFrom);
        assertEquals(PluginJars.sha256(jar), PluginJars.sha256(loadedFrom));
    }

    @Test
    void aJarBundlingOnnxRuntimeOrNamingOtherJarsIsRefusedEvenWhenListed() throws IOException {
        Path plugins = temp.resolve("plugins");
        String source = PluginJars.plugin("Probe", "probe", "PluginSpi.VERSION", PROBING_BODY);
        PluginJars.build(plugins, "a-runtime.jar", "Probe", source,
                Map.of("ai/onnxruntime/OrtEnvironment.class", new byte[] {(byte) 0xca, (byte) 0xfe}), null);
        PluginJars.build(plugins, "b-native.jar", "Probe", source,
                Map.of("native/linux-x64/libonnxruntime.so.1.29.0", new byte[] {0x7f, 'E', 'L', 'F'}), null);
        PluginJars.build(plugins, "c-classpath.jar", "Probe", source, Map.of(), "unvetted.jar");
        PluginRegistry registry = PluginRegistry.discover(getClass().getClassLoader(), Optional.of(plugins),
                PluginJars.allowAll(plugins));

        assertTrue(registry.find("probe").isEmpty());
        List<String> reasons = registry.rejected().stream().map(RejectedPlugin::toString).toList();
        assertEquals(3, reasons.size(), reasons.toString());
        assertTrue(reasons.get(0).startsWith("jar a-runtime.jar: it bundles ONNX Runtime (ai/onnxruntime/OrtEnvironment"
                + ".class); plugins run models only through the host's runtime (PluginContext.runner)"), reasons.get(0));
        assertTrue(reasons.get(1).startsWith("jar b-native.jar: it bundles ONNX Runtime (native/linux-x64/"
                + "libonnxruntime.so.1.29.0)"), reasons.get(1));
        assertTrue(reasons.get(2).startsWith("jar c-classpath.jar: its manifest has a Class-Path (unvetted.jar); a plugin"
                + " jar must be self-contained"), reasons.get(2));
    }

    @Test
    void anAllowListFileTakesSha256sumLinesAndBadEntriesAreNamed() throws IOException {
        String digest = "ab".repeat(32);
        Path file = temp.resolve("allowed.txt");
        Files.writeString(file, "# vetted 2026-12-01\n" + digest + "  first.jar\n" + digest.toUpperCase() + " *second.jar\n"
                + "third.jar:" + digest + "\n", StandardCharsets.UTF_8);
        PluginAllowList list = PluginAllowList.read(file);
        assertEquals(Map.of("first.jar", digest, "second.jar", digest, "third.jar", digest), list.entries());
        assertFalse(list.refusal("first.jar", digest).isPresent());

        EngineException short256 = assertThrows(EngineException.class, () -> PluginAllowList.parse("x.jar:abc"));
        assertEquals("plugin allow-list: the sha256 of x.jar must be 64 hex digits, not 'abc'", short256.getMessage());
        EngineException noJar = assertThrows(EngineException.class, () -> PluginAllowList.parse("x.zip:" + digest));
        assertEquals("plugin allow-list: 'x.zip' is not a jar file name (NAME.jar, no folder)", noJar.getMessage());
        Files.writeString(file, "first.jar " + digest + "\n");
        EngineException line = assertThrows(EngineException.class, () -> PluginAllowList.read(file));
        assertEquals("plugin allow-list " + file + " line 1: 'first.jar " + digest + "' is not NAME.jar:SHA256",
                line.getMessage());
        EngineException twice = assertThrows(EngineException.class, () -> PluginAllowList.parse("a.jar:" + digest)
                .and(PluginAllowList.parse("a.jar:" + "cd".repeat(32))));
        assertTrue(twice.getMessage().contains("a.jar is allowed twice with different sha256"), twice.getMessage());
    }

    private CompressionReport compress(PluginRegistry registry, List<ChainStep> chain) {
        Path model = temp.resolve("in/model.onnx");
        TestModels.mlp(8, 16, 4, 1).save(model, SaveOptions.inline());
        return new CompressionEngine(registry, LoadLimits.DEFAULT).compress(new CompressionRequest(model,
                TestProfiles.cpu(), chain, temp.resolve("out")), ProgressListener.NONE);
    }
}

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
import io.modelpress.engine.Measurement;
import io.modelpress.engine.ProgressListener;
import io.modelpress.engine.TestProfiles;
import io.modelpress.model.LoadLimits;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.SaveOptions;
import io.modelpress.testkit.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Plugins discovered on the class path and from real jars built here, each jar in its own class loader. */
class PluginRegistryTest {

    /** Renames the graph; reports whether the host's engine classes are visible to it (they must not be). */
    private static final String RENAMING_BODY = """
            boolean seesHost;
            try {
                Class.forName("io.modelpress.engine.plugin.PluginRegistry", false, getClass().getClassLoader());
                seesHost = true;
            } catch (ClassNotFoundException e) {
                seesHost = false;
            }
            OnnxModel renamed = model.withProto(model.proto().toBuilder()
                    .setGraph(model.proto().getGraph().toBuilder().setName("renamed-" + options.integer("level"))).build());
            return PluginResult.builder(renamed).change("graph renamed")
                    .figure("sees-host-classes", seesHost ? 1 : 0).build();
            """;

    @TempDir
    Path temp;

    @Test
    void findsBuiltInPluginsOnTheClassPath() {
        PluginRegistry registry = PluginRegistry.discover(getClass().getClassLoader());
        LoadedPlugin cleanup = registry.require("graph-cleanup");
        assertEquals(PluginSource.CLASS_PATH, cleanup.source());
        assertTrue(registry.rejected().isEmpty(), registry.rejected().toString());
    }

    @Test
    void loadsAndRunsAPluginJarBuiltDuringTheTest() throws IOException {
        Path plugins = temp.resolve("plugins");
        PluginJars.build(plugins, "renamer.jar", "Renamer", PluginJars.plugin("Renamer", "graph-renamer",
                "PluginSpi.VERSION", RENAMING_BODY));
        PluginRegistry registry = discoverAllowingAll(plugins);

        LoadedPlugin renamer = registry.require("graph-renamer");
        assertEquals(Optional.of(plugins.resolve("renamer.jar")), renamer.source().jar());
        assertTrue(renamer.plugin().getClass().getClassLoader() != getClass().getClassLoader(),
                "a jar plugin gets a class loader of its own");

        CompressionReport report = compress(registry, List.of(ChainStep.parse("graph-renamer:level=2")));
        assertEquals("unverified", report.status(), "only generated inputs judged it");
        assertEquals(List.of("graph renamed"), report.steps().get(0).changes());
        assertEquals(0.0, report.steps().get(0).figures().get("sees-host-classes"),
                "the plugin must see only the SPI packages of the host");
        assertEquals("renamed-2", OnnxModel.load(temp.resolve("out/model.onnx")).proto().getGraph().getName());
    }

    @Test
    void refusesAPluginBuiltForAnotherSpiVersion() throws IOException {
        Path plugins = temp.resolve("plugins");
        PluginJars.build(plugins, "future.jar", "Future", PluginJars.plugin("Future", "from-the-future", "99",
                RENAMING_BODY));
        PluginRegistry registry = discoverAllowingAll(plugins);

        assertTrue(registry.find("from-the-future").isEmpty());
        RejectedPlugin rejected = registry.rejected().get(0);
        assertTrue(rejected.reason().contains("SPI version 99"), rejected.reason());
        assertTrue(rejected.reason().contains("runs SPI versions 1 to 2"), rejected.reason());
    }

    /** Renames the graph like the renamer; reports whether the chain's start is its input, by graph name. */
    private static final String ORIGINAL_BODY = """
            OnnxModel original = context.original().orElseThrow();
            boolean isInput = original.proto().getGraph().getName().equals(model.proto().getGraph().getName());
            OnnxModel renamed = model.withProto(model.proto().toBuilder()
                    .setGraph(model.proto().getGraph().toBuilder().setName("renamed-" + options.integer("level"))).build());
            return PluginResult.builder(renamed).change("original graph " + original.proto().getGraph().getName())
                    .figure("original-is-input", isInput ? 1 : 0).build();
            """;

    @Test
    void aPluginBuiltForSpiVersion1StillRuns() throws IOException {
        Path plugins = temp.resolve("plugins");
        PluginJars.build(plugins, "old.jar", "Old", PluginJars.plugin("Old", "graph-renamer", "1", RENAMING_BODY));
        CompressionReport report = compress(discoverAllowingAll(plugins), List.of(ChainStep.parse("graph-renamer")));
        assertEquals("done", report.steps().get(0).status(), report.steps().toString());
    }

    @Test
    void everyStepSeesTheModelTheChainStartedFromAlsoAfterASharedPrefix() throws IOException {
        Path plugins = temp.resolve("plugins");
        PluginJars.build(plugins, "origin.jar", "Origin", PluginJars.plugin("Origin", "graph-origin",
                "PluginSpi.VERSION", ORIGINAL_BODY));
        PluginRegistry registry = discoverAllowingAll(plugins);
        List<ChainStep> chain = List.of(ChainStep.parse("graph-origin:level=1"), ChainStep.parse("graph-origin:level=2"));
        CompressionReport report = compress(registry, chain);
        String start = OnnxModel.load(temp.resolve("in/model.onnx")).proto().getGraph().getName();
        assertEquals(1.0, report.steps().get(0).figures().get("original-is-input"), "the first step's input is the start");
        assertEquals(0.0, report.steps().get(1).figures().get("original-is-input"), "the second step's is not");
        assertEquals(List.of("original graph " + start), report.steps().get(1).changes());

        // The planner starts later chains after a prefix another candidate ran: their steps still see the start.
        CompressionEngine engine = new CompressionEngine(registry, LoadLimits.DEFAULT);
        OnnxModel original = engine.load(temp.resolve("in/model.onnx"));
        OnnxModel renamed = OnnxModel.load(temp.resolve("out/model.onnx")); // a model the prefix made
        CompressionReport resumed = engine.compress(new CompressionRequest(temp.resolve("in/model.onnx"),
                TestProfiles.cpu(), chain, temp.resolve("resumed")), ProgressListener.NONE,
                Measurement.FULL, Optional.of(new CompressionEngine.Prefix(original, chain.subList(0, 1), renamed,
                        report.steps().subList(0, 1))));
        assertEquals(List.of("original graph " + start), resumed.steps().get(1).changes(), resumed.steps().toString());
    }

    @Test
    void refusesADuplicateIdAndKeepsTheFirst() throws IOException {
        Path plugins = temp.resolve("plugins");
        PluginJars.build(plugins, "impostor.jar", "Impostor", PluginJars.plugin("Impostor", "graph-cleanup",
                "PluginSpi.VERSION", RENAMING_BODY));
        PluginRegistry registry = discoverAllowingAll(plugins);

        assertEquals(PluginSource.CLASS_PATH, registry.require("graph-cleanup").source());
        String reason = registry.rejected().get(0).reason();
        assertTrue(reason.contains("'graph-cleanup' is already provided by class path"), reason);
    }

    @Test
    void aJarWithoutPluginsOrABrokenJarIsRefusedWithAReason() throws IOException {
        Path plugins = Files.createDirectories(temp.resolve("plugins"));
        Files.write(plugins.resolve("broken.jar"), new byte[] {1, 2, 3});
        PluginRegistry registry = discoverAllowingAll(plugins);
        assertEquals(1, registry.rejected().size());
        assertTrue(registry.rejected().get(0).source().toString().contains("broken.jar"));
        assertTrue(registry.find("graph-cleanup").isPresent(), "built-ins stay usable");
    }

    @Test
    void aPluginThatThrowsFailsItsOwnStepAndTheChainGoesOn() throws IOException {
        Path plugins = temp.resolve("plugins");
        PluginJars.build(plugins, "faulty.jar", "Faulty", PluginJars.plugin("Faulty", "faulty",
                "PluginSpi.VERSION", "throw new IllegalStateException(\"weights are upside down\");"));
        PluginRegistry registry = discoverAllowingAll(plugins);

        CompressionReport report = compress(registry, List.of(ChainStep.parse("faulty"), ChainStep.parse("graph-cleanup")));
        assertEquals("partial", report.status());
        CompressionReport.StepReport failed = report.steps().get(0);
        assertEquals("failed", failed.status());
        assertEquals(Optional.of("plugin failed with IllegalStateException: weights are upside down"), failed.error());
        assertEquals("done", report.steps().get(1).status(), "the next step runs on the last good model");
        assertTrue(report.fidelity().runsInOnnxRuntime());
    }

    @Test
    void unknownPluginsAndBadOptionsAreRefusedWithWhatIsValid() {
        PluginRegistry registry = PluginRegistry.discover(getClass().getClassLoader());
        CompressionEngine engine = new CompressionEngine(registry, LoadLimits.DEFAULT);

        EngineException unknown = assertThrows(EngineException.class,
                () -> engine.plan(List.of(ChainStep.parse("int9")), TestProfiles.cpu()));
        assertEquals("unknown plugin 'int9'; available plugins: " + String.join(", ", ids(registry)), unknown.getMessage());
        assertTrue(ids(registry).contains("graph-cleanup"), ids(registry).toString());

        EngineException option = assertThrows(EngineException.class,
                () -> engine.plan(List.of(ChainStep.parse("graph-cleanup:dead-nodez=true")), TestProfiles.cpu()));
        assertTrue(option.getMessage().startsWith("plugin 'graph-cleanup': unknown option 'dead-nodez'; valid options: dead-nodes"),
                option.getMessage());

        EngineException range = assertThrows(EngineException.class,
                () -> engine.plan(List.of(ChainStep.parse("graph-cleanup:deduplicate-min-bytes=0")), TestProfiles.cpu()));
        assertTrue(range.getMessage().contains("'deduplicate-min-bytes' = '0' is invalid: out of range; expected integer 1..2147483647"),
                range.getMessage());
        assertFalse(range.getMessage().contains("\n"));
    }

    /** The registry of a folder whose every jar is allowed with its current sha256, as an operator who vetted them writes it. */
    private PluginRegistry discoverAllowingAll(Path plugins) throws IOException {
        return PluginRegistry.discover(getClass().getClassLoader(), Optional.of(plugins), PluginJars.allowAll(plugins));
    }

    private CompressionReport compress(PluginRegistry registry, List<ChainStep> chain) {
        Path model = temp.resolve("in/model.onnx");
        TestModels.mlp(8, 16, 4, 1).save(model, SaveOptions.inline());
        CompressionEngine engine = new CompressionEngine(registry, LoadLimits.DEFAULT);
        return engine.compress(new CompressionRequest(model, TestProfiles.cpu(), chain, temp.resolve("out")),
                ProgressListener.NONE);
    }

    private static List<String> ids(PluginRegistry registry) {
        return registry.all().stream().map(plugin -> plugin.plugin().id()).sorted().toList();
    }
}

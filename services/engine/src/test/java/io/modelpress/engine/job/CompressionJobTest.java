package io.modelpress.engine.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelpress.engine.ChainStep;
import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.CompressionReport;
import io.modelpress.engine.EngineException;
import io.modelpress.engine.ProgressListener;
import io.modelpress.engine.Reports;
import io.modelpress.engine.TestProfiles;
import io.modelpress.engine.plan.Budget;
import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.inference.BenchmarkSettings;
import io.modelpress.model.LoadLimits;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.SaveOptions;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.testkit.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One request's work through a local folder as storage: identify, look up, compute, store, index. */
class CompressionJobTest {

    private static final Optional<BenchmarkSettings> TIMED = Optional.of(BenchmarkSettings.of(1, 1, 3));

    @TempDir
    Path temp;

    private final CompressionEngine engine = new CompressionEngine(PluginRegistry.discover(getClass().getClassLoader()),
            LoadLimits.DEFAULT);

    @Test
    void aResultIsStoredUnderContentAddressedKeysAndTheSameRequestThenFindsIt() throws Exception {
        Path model = model();
        FolderStorage storage = new FolderStorage(temp.resolve("store"));
        CompressionJob job = new CompressionJob(engine, storage, TIMED);
        HardwareProfile profile = TestProfiles.cpu();
        CompressionJob.Input input = input(model, "registry/m/1/");
        CompressionJob.Request request = job.identify(input, profile, PlanChoice.named(PlanChoice.COMMAND_LINE,
                List.of(ChainStep.parse("int8-dynamic"))));
        assertEquals("registry/m/1/modelpress/index/" + profile.id() + "/" + input.digest() + "/" + request.digest()
                + ".json", request.indexKey());
        assertTrue(job.lookup(request).isEmpty());

        Path out = temp.resolve("out");
        CompressionReport report = job.compute(request, model, out, Optional.empty(), Optional.empty(),
                ProgressListener.NONE);
        assertTrue(report.benchmark().isPresent(), "timed as asked");
        CompressionJob.Stored stored = job.store(input, request, report, out, () -> { });
        assertEquals("registry/m/1/modelpress/" + profile.id() + "/" + report.compressed().digest() + "/", stored.folder());
        assertTrue(stored.files().contains("model.onnx") && stored.files().contains(stored.reportName()), stored::toString);
        assertEquals("reports/" + request.digest() + ".json", stored.reportName());
        assertTrue(stored.uploadedBytes() > 0);
        assertEquals(Files.readString(out.resolve(Reports.FILE)),
                Files.readString(storage.file(stored.folder() + stored.reportName())), "the report as the engine wrote it");
        job.index(request, "{\"entry\":1}");

        CompressionJob.Stored again = job.store(input, request, report, out, () -> { });
        assertEquals(0, again.uploadedBytes(), "nothing stored twice");
        job.index(request, "{\"entry\":2}");
        assertEquals(Optional.of("{\"entry\":1}"), job.lookup(request), "the first index entry stays");

        CompressionJob.Request other = job.identify(input, profile, PlanChoice.named(PlanChoice.COMMAND_LINE,
                List.of(ChainStep.parse("int8-dynamic:per-channel=false"))));
        assertFalse(other.digest().equals(request.digest()), "other options are another request");
        assertTrue(job.lookup(other).isEmpty());
    }

    @Test
    void thePlannersChoiceIsTimedBeforeItsReportIsWrittenOnce() throws Exception {
        Path model = model();
        CompressionJob job = new CompressionJob(engine, ObjectStorage.NONE, TIMED);
        HardwareProfile profile = TestProfiles.cpu();
        CompressionJob.Request request = job.identify(input(model, ""), profile,
                PlanChoice.planned(Budget.of(profile)));
        assertTrue(request.plan().isEmpty() && request.planDigest().isEmpty(), "the planner has not chosen yet");
        Path out = temp.resolve("planned");
        CompressionReport report = job.compute(request, model, out, Optional.empty(), Optional.empty(),
                ProgressListener.NONE);
        assertTrue(report.planning().isPresent());
        CompressionReport.BenchmarkReport benchmark = report.benchmark().orElseThrow();
        assertEquals(3, benchmark.settings().minRounds(), "the job's timing, not the search's");
        JsonNode written = Reports.json().readTree(out.resolve(Reports.FILE).toFile());
        assertEquals(3, written.path("benchmark").path("settings").path("minRounds").asInt(), written::toString);
        assertEquals(Reports.json().readTree(Reports.toJson(report)), written, "report.json is the report returned");
    }

    @Test
    void aNamedChainThatCannotRunIsRefusedBeforeTheModelIsRead() {
        CompressionJob job = new CompressionJob(engine, ObjectStorage.NONE, Optional.empty());
        CompressionJob.Input input = new CompressionJob.Input(temp.resolve("absent.onnx"), "d", "", Optional.empty(),
                Optional.empty());
        EngineException e = assertThrows(EngineException.class, () -> job.identify(input, TestProfiles.cpu(),
                PlanChoice.named(PlanChoice.EVENT, List.of(ChainStep.parse("no-such-plugin")))));
        assertTrue(e.getMessage().contains("no-such-plugin"), e.getMessage());
    }

    @Test
    void aFolderStorageKeepsKeysInsideItsFolder() {
        FolderStorage storage = new FolderStorage(temp.resolve("store"));
        assertThrows(EngineException.class, () -> storage.readText("../outside.json"));
        assertThrows(EngineException.class, () -> storage.writeText("/etc/x", "{}", "application/json"));
        storage.writeText("a/b.json", "{}", "application/json");
        assertEquals(Optional.of("{}"), storage.readText("a/b.json"));
        assertFalse(storage.putIfAbsent(temp.resolve("store/a/b.json"), "a/b.json", "application/json"));
    }

    @Test
    void declaredFilesAreOnlyThoseInsideTheModelsFolder() throws Exception {
        Path file = temp.resolve("m/model.onnx");
        Files.createDirectories(file.getParent());
        TestModels.mlp(8, 8, 2, 3).save(file, SaveOptions.external("weights.bin"));
        assertEquals(List.of("weights.bin"), List.copyOf(DeclaredFiles.of(file)));
        Path notOnnx = temp.resolve("m/junk.onnx");
        Files.writeString(notOnnx, "not a model at all, just text");
        assertThrows(EngineException.class, () -> DeclaredFiles.of(notOnnx));
    }

    private Path model() throws Exception {
        Path file = temp.resolve("in/model.onnx");
        Files.createDirectories(file.getParent());
        TestModels.mlp(16, 32, 4, 7).save(file, SaveOptions.inline());
        return file;
    }

    private static CompressionJob.Input input(Path model, String folder) {
        String digest = OnnxModel.load(model).sourceDigest().orElseThrow();
        return new CompressionJob.Input(model, digest, folder, Optional.empty(), Optional.empty());
    }
}

package io.modelpress.engine.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.model.ModelDigest;
import io.modelpress.model.SaveOptions;
import io.modelpress.testkit.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The download policy: only what the model declares, within one limit, its sha256 checked before it is parsed. */
class ArtifactFetchTest {

    @TempDir
    Path temp;

    private FolderStorage storage;
    private final List<String> fetched = new ArrayList<>();
    private ArtifactFetch fetch;
    private String fileSha;
    private String fullDigest;

    @BeforeEach
    void store() throws Exception {
        storage = new FolderStorage(temp.resolve("store"));
        Path folder = Files.createDirectories(storage.file("registry/m/1/model.onnx").getParent());
        TestModels.mlp(8, 16, 3, 5).save(folder.resolve("model.onnx"), SaveOptions.external("weights.bin"));
        Files.write(folder.resolve("unrelated.bin"), new byte[4096]); // a sibling the model does not declare
        fileSha = sha256(folder.resolve("model.onnx"));
        TreeMap<String, Path> external = new TreeMap<>();
        external.put("weights.bin", folder.resolve("weights.bin"));
        fullDigest = ModelDigest.of(folder.resolve("model.onnx"), external);
        fetch = new ArtifactFetch(storage, (key, bytes, modelBytes, limit) -> fetched.add(key));
    }

    @Test
    void theModelAndTheExternalDataItDeclaresAreFetchedAndNothingElse() throws Exception {
        Path target = temp.resolve("work/input");
        ArtifactFetch.Model model = fetch.model("registry/m/1/model.onnx", Optional.of(fullDigest), target, 1 << 20);

        assertEquals(List.of("registry/m/1/model.onnx", "registry/m/1/weights.bin"), fetched);
        assertEquals(List.of("weights.bin"), List.copyOf(model.external().keySet()));
        assertFalse(Files.exists(target.resolve("unrelated.bin")), "an undeclared sibling stays where it is");
        assertEquals(fileSha, model.fileSha256());
        assertEquals(Files.size(target.resolve("model.onnx")) + Files.size(target.resolve("weights.bin")), model.bytes());
        // The model file's own sha256 is accepted too.
        fetch.model("registry/m/1/model.onnx", Optional.of(fileSha), temp.resolve("again"), 1 << 20);
    }

    @Test
    void aWrongSha256IsRefusedWithBothDigests() {
        String wrong = "ab".repeat(32);
        ArtifactFetch.Mismatch mismatch = assertThrows(ArtifactFetch.Mismatch.class,
                () -> fetch.model("registry/m/1/model.onnx", Optional.of(wrong), temp.resolve("in"), 1 << 20));
        assertEquals(fileSha, mismatch.fileSha256());
        assertEquals(Optional.of(fullDigest), mismatch.withExternal());
        assertTrue(mismatch.getMessage().startsWith("sha256 mismatch: expected " + wrong), mismatch.getMessage());
    }

    @Test
    void theModelWithItsExternalDataStaysWithinOneLimit() throws Exception {
        long modelFile = Files.size(storage.file("registry/m/1/model.onnx"));
        ArtifactFetch.Refused over = assertThrows(ArtifactFetch.Refused.class,
                () -> fetch.model("registry/m/1/model.onnx", Optional.empty(), temp.resolve("in"), modelFile + 10));
        assertEquals(ArtifactFetch.Kind.OVER_LIMIT, over.kind());
        assertTrue(over.getMessage().contains("(the model and the external data it declares) is over the limit of "
                + (modelFile + 10) + " bytes"), over.getMessage());
    }

    @Test
    void aMissingModelOrExternalFileIsNamed() throws Exception {
        ArtifactFetch.Refused missing = assertThrows(ArtifactFetch.Refused.class,
                () -> fetch.model("registry/none/model.onnx", Optional.empty(), temp.resolve("a"), 1 << 20));
        assertEquals(ArtifactFetch.Kind.MISSING, missing.kind());
        assertEquals("no object at " + storage.describe("registry/none/model.onnx"), missing.getMessage());

        Files.delete(storage.file("registry/m/1/weights.bin"));
        ArtifactFetch.Refused external = assertThrows(ArtifactFetch.Refused.class,
                () -> fetch.model("registry/m/1/model.onnx", Optional.empty(), temp.resolve("b"), 1 << 20));
        assertEquals(ArtifactFetch.Kind.MISSING, external.kind());
        assertTrue(external.getMessage().startsWith("external data file of the model: no object at "),
                external.getMessage());
    }

    @Test
    void aFileThatIsNoModelIsRefusedBeforeAnythingElseIsFetched() throws Exception {
        Files.writeString(storage.file("registry/m/1/model.onnx"), "not a model");
        ArtifactFetch.Refused refused = assertThrows(ArtifactFetch.Refused.class,
                () -> fetch.model("registry/m/1/model.onnx", Optional.empty(), temp.resolve("in"), 1 << 20));
        assertEquals(ArtifactFetch.Kind.NOT_A_MODEL, refused.kind());
        assertEquals(List.of("registry/m/1/model.onnx"), fetched);
    }

    @Test
    void aDataObjectHasItsOwnLimitAndItsSha256() throws Exception {
        Path data = storage.file("data/calibration.npz");
        Files.createDirectories(data.getParent());
        Files.write(data, new byte[100]);
        assertEquals(sha256(data), fetch.data("data/calibration.npz", temp.resolve("d/calibration.npz"), 100));
        ArtifactFetch.Refused over = assertThrows(ArtifactFetch.Refused.class,
                () -> fetch.data("data/calibration.npz", temp.resolve("e/calibration.npz"), 99));
        assertEquals(ArtifactFetch.Kind.OVER_LIMIT, over.kind());
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}

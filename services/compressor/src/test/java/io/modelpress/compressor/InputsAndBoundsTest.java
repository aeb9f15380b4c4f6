package io.modelpress.compressor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.job.DeclaredFiles;
import io.modelpress.model.SaveOptions;
import io.modelpress.testkit.TestModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The allow-list, the declared external data files, and the bounded copy of a record in a failure event. */
class InputsAndBoundsTest {

    @TempDir
    Path temp;

    @Test
    void theAllowListTakesBucketsAndPrefixesAndRefusesEverythingElseWithTheReason() {
        InputPolicy policy = new InputPolicy(List.of("models/registry/", "s3://shared"));
        assertEquals("models", policy.stateBucket());
        assertEquals(new S3Location("models", "registry/a/model.onnx"),
                policy.check("s3://models/registry/a/model.onnx", "artifactUri"));
        assertEquals("shared", policy.check("s3://shared/x.onnx", "artifactUri").bucket());
        JobFailure outside = assertThrows(JobFailure.class, () -> policy.check("s3://models/other/model.onnx", "artifactUri"));
        assertEquals(Stage.VALIDATE, outside.stage());
        assertFalse(outside.retryable());
        assertTrue(outside.getMessage().contains("outside the locations"), outside.getMessage());
        for (String key : List.of("registry/../secrets/model.onnx", "registry/./model.onnx", "registry/a\\model.onnx")) {
            JobFailure refused = assertThrows(JobFailure.class, () -> policy.check("s3://models/" + key, "artifactUri"));
            assertEquals(Stage.VALIDATE, refused.stage(), key);
        }
        assertThrows(IllegalArgumentException.class, () -> new InputPolicy(List.of(" ")));
    }

    @Test
    void onlyTheExternalDataFilesTheModelDeclaresAreNamed() throws Exception {
        Path file = temp.resolve("model.onnx");
        TestModels.mlp(64, 64, 8, 3).save(file, SaveOptions.external("weights.bin"));
        SortedSet<String> declared = DeclaredFiles.of(file);
        assertEquals(List.of("weights.bin"), List.copyOf(declared));
        Path inline = temp.resolve("inline.onnx");
        TestModels.mlp(4, 4, 2, 3).save(inline, SaveOptions.inline());
        assertTrue(DeclaredFiles.of(inline).isEmpty());
    }

    @Test
    void aFailureEventCarriesTheSizeAndDigestOfTheValueAndOnlyItsStart() {
        String text = "é".repeat(3000); // two bytes each: a cut at 4096 bytes falls between characters' bytes or not
        byte[] value = ("x" + text).getBytes(StandardCharsets.UTF_8); // odd offset: 4096 falls inside a character
        IncomingRecord record = new IncomingRecord("in", 0, 7, Optional.of("k"), Map.of("h", "v".repeat(2000)), value);
        IncomingRecord.Original original = record.original(4096);
        assertTrue(original.truncated());
        assertEquals(value.length, original.valueBytes());
        assertEquals("utf-8", original.valueEncoding(), "cut at a character boundary, so still text");
        assertTrue(original.value().getBytes(StandardCharsets.UTF_8).length <= 4096);
        assertTrue(("x" + text).startsWith(original.value()));
        assertEquals(IncomingRecord.MAX_HEADER_CHARS, original.headers().get("h").length());
        assertEquals(64, original.valueSha256().length());

        byte[] binary = new byte[10_000];
        binary[0] = (byte) 0xFF;
        IncomingRecord.Original bytes = new IncomingRecord("in", 0, 8, Optional.empty(), Map.of(), binary).original(4096);
        assertEquals("base64", bytes.valueEncoding());
        assertEquals(4096, Base64.getDecoder().decode(bytes.value()).length);

        IncomingRecord.Original small = new IncomingRecord("in", 0, 9, Optional.empty(), Map.of(),
                "{\"a\":1}".getBytes(StandardCharsets.UTF_8)).original(4096);
        assertFalse(small.truncated());
        assertEquals("{\"a\":1}", small.value());
    }
}

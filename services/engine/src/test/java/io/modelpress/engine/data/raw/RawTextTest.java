package io.modelpress.engine.data.raw;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import io.modelpress.engine.EngineException;
import io.modelpress.engine.data.NpzData;
import io.modelpress.inference.OrtRunner;
import io.modelpress.model.DataType;
import io.modelpress.model.Nodes;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.TestModels;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Text lines become token inputs with the model's own tokenizer.json. */
class RawTextTest {

    /** A BERT-style WordPiece tokenizer with a vocabulary of a few words, as the tokenizers library writes it. */
    private static final String TOKENIZER = """
            {"version": "1.0", "truncation": null, "padding": null,
             "added_tokens": [
               {"id": 0, "content": "[PAD]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
               {"id": 1, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
               {"id": 2, "content": "[CLS]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
               {"id": 3, "content": "[SEP]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
             "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
             "pre_tokenizer": {"type": "BertPreTokenizer"},
             "post_processor": {"type": "TemplateProcessing",
               "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
               "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                        {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
               "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]}, "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
             "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
             "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
               "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "the": 4, "cat": 5, "sat": 6, "on": 7, "mat": 8, "##s": 9, "a": 10}}}
            """;

    private static final Path MINILM = Path.of("../../bench/models/cache/minilm-l6.onnx");
    private static final Path MINILM_TOKENIZER = Path.of("../../bench/models/cache/minilm-l6-tokenizer.json");

    @TempDir
    Path temp;

    /** An encoder's inputs: input_ids, attention_mask, token_type_ids int64[batch, sequence]; sums them per example. */
    private static OnnxModel encoderInputs() {
        GraphProto graph = GraphProto.newBuilder().setName("encoder")
                .addInput(Nodes.tensorValue("input_ids", DataType.INT64, "batch", "sequence"))
                .addInput(Nodes.tensorValue("attention_mask", DataType.INT64, "batch", "sequence"))
                .addInput(Nodes.tensorValue("token_type_ids", DataType.INT64, "batch", "sequence"))
                .addOutput(Nodes.tensorValue("y", DataType.INT64, "batch", "sequence"))
                .addNode(Nodes.node("Add", "add", List.of("input_ids", "attention_mask"), List.of("s")))
                .addNode(Nodes.node("Add", "add2", List.of("s", "token_type_ids"), List.of("y")))
                .build();
        return TestModels.model(graph);
    }

    @Test
    void linesBecomeIdsMaskAndTypesPaddedToTheLength() throws IOException {
        Path tokenizer = Files.writeString(temp.resolve("tokenizer.json"), TOKENIZER);
        Path text = Files.writeString(temp.resolve("lines.txt"), "The cat sat\n\n  on the mats  \n");
        Path out = temp.resolve("text.npz");
        OnnxModel model = encoderInputs();

        RawDataResult result = RawData.text(model, new RawData.Request(text, LabelSource.none(), Optional.empty(), 0, out),
                tokenizer, OptionalInt.of(8));

        assertEquals(2, result.examples(), "the blank line is no example");
        assertArrayEquals(new long[] {2, 8}, result.arrays().get("input_ids"));
        CalibrationData data = NpzData.read(out, NpzData.inputRanks(model), 2, 1 << 20);
        long[] ids = longs(data.sample(0).get("input_ids"));
        long[] mask = longs(data.sample(0).get("attention_mask"));
        List<List<Long>> rows = List.of(row(ids, 0), row(ids, 1));
        assertTrue(rows.contains(List.of(2L, 4L, 5L, 6L, 3L, 0L, 0L, 0L)), "[CLS] the cat sat [SEP] then padding: " + rows);
        assertTrue(rows.contains(List.of(2L, 7L, 4L, 8L, 9L, 3L, 0L, 0L)), "[CLS] on the mat ##s [SEP]: " + rows);
        int first = rows.indexOf(List.of(2L, 4L, 5L, 6L, 3L, 0L, 0L, 0L));
        assertEquals(List.of(1L, 1L, 1L, 1L, 1L, 0L, 0L, 0L), row(mask, first), "mask covers the tokens");
        try (OrtRunner runner = OrtRunner.open(model)) {
            assertEquals(1, runner.run(data.sample(0)).size(), "the model takes the data as it is");
        }
    }

    @Test
    void aLongLineIsCutAndSaysSo() throws IOException {
        Path tokenizer = Files.writeString(temp.resolve("tokenizer.json"), TOKENIZER);
        Path text = Files.writeString(temp.resolve("lines.txt"), "the cat sat on the mat the cat sat on the mat\n");

        RawDataResult result = RawData.text(encoderInputs(), new RawData.Request(text, LabelSource.none(), Optional.empty(), 0,
                temp.resolve("t.npz")), tokenizer, OptionalInt.of(6));

        assertTrue(result.notes().stream().anyMatch(note -> note.contains("1 line was longer than 6 tokens")), result.notes().toString());
    }

    @Test
    void aBrokenTokenizerIsNamed() throws IOException {
        Path tokenizer = Files.writeString(temp.resolve("broken-tokenizer.json"), "{\"model\": 3}");
        Path text = Files.writeString(temp.resolve("lines.txt"), "the cat\n");

        EngineException e = assertThrows(EngineException.class, () -> RawData.text(encoderInputs(),
                new RawData.Request(text, LabelSource.none(), Optional.empty(), 0, temp.resolve("t.npz")), tokenizer,
                OptionalInt.of(8)));

        assertTrue(e.getMessage().contains("broken-tokenizer.json"), e.getMessage());
    }

    @Test
    void labelsComeFromTheFolderOfEachTextFile() throws IOException {
        Path tokenizer = Files.writeString(temp.resolve("tokenizer.json"), TOKENIZER);
        Path root = temp.resolve("reviews");
        Files.createDirectories(root.resolve("neg"));
        Files.createDirectories(root.resolve("pos"));
        Files.writeString(root.resolve("neg/a.txt"), "the cat\nthe mat\n");
        Files.writeString(root.resolve("pos/b.txt"), "a cat sat\n");
        Path out = temp.resolve("reviews.npz");

        RawDataResult result = RawData.text(encoderInputs(), new RawData.Request(root, LabelSource.folders(), Optional.empty(), 0,
                out), tokenizer, OptionalInt.of(8));

        assertEquals(List.of("neg", "pos"), result.classes());
        CalibrationData data = NpzData.read(out, Map.of(), 3, 1 << 20);
        long[] labels = longs(data.labels(0).orElseThrow());
        long[] ids = longs(data.sample(0).get("input_ids"));
        for (int i = 0; i < 3; i++) {
            assertEquals(ids[i * 8 + 1] == 10 ? 1 : 0, labels[i], "the line starting with 'a' is the positive one");
        }
    }

    @Test
    void miniLmTokenizerGivesBertIds() throws IOException {
        Assumptions.assumeTrue(Files.isRegularFile(MINILM_TOKENIZER) && Files.isRegularFile(MINILM),
                "bench/models/fetch-models.sh fetches MiniLM and its tokenizer");
        Path text = Files.writeString(temp.resolve("lines.txt"), "Hello world\n");
        Path out = temp.resolve("minilm.npz");
        OnnxModel model = OnnxModel.load(MINILM);

        RawDataResult result = RawData.text(model, new RawData.Request(text, LabelSource.none(), Optional.empty(), 0, out),
                MINILM_TOKENIZER, OptionalInt.empty());

        assertArrayEquals(new long[] {1, 128}, result.arrays().get("input_ids"), "variable length: 128 by default");
        CalibrationData data = NpzData.read(out, NpzData.inputRanks(model), 1, 1 << 20);
        long[] ids = longs(data.sample(0).get("input_ids"));
        assertEquals(List.of(101L, 7592L, 2088L, 102L, 0L), row(ids, 0).subList(0, 5), "[CLS] hello world [SEP] [PAD]");
        try (OrtRunner runner = OrtRunner.open(model)) {
            assertTrue(runner.run(data.sample(0)).values().iterator().next().toFloats().length > 0);
        }
    }

    private static List<Long> row(long[] values, int row) {
        return java.util.Arrays.stream(values, row * 8, row * 8 + 8).boxed().toList(); // rows of 8 tokens
    }

    private static long[] longs(TensorData tensor) {
        long[] values = new long[(int) tensor.elementCount()];
        tensor.data().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(values);
        return values;
    }
}

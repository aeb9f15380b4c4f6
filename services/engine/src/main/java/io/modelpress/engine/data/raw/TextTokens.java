package io.modelpress.engine.data.raw;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.modelpress.engine.EngineException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} (read by DJL's binding of the tokenizers library, offline),
 * padding and truncating every line to one length with the model's own special tokens.
 */
final class TextTokens implements AutoCloseable {

    /** What one line became: ids, mask and type ids of {@code length} tokens each. */
    record Tokens(long[] ids, long[] attentionMask, long[] typeIds, boolean truncated) {
    }

    private final HuggingFaceTokenizer tokenizer;
    private final int length;

    private TextTokens(HuggingFaceTokenizer tokenizer, int length) {
        this.tokenizer = tokenizer;
        this.length = length;
    }

    static TextTokens open(Path tokenizerJson, int length) {
        if (!Files.isRegularFile(tokenizerJson)) {
            throw new EngineException("tokenizer file not found: " + tokenizerJson);
        }
        if (length < 2) {
            throw new EngineException("the token length must be at least 2, not " + length);
        }
        Map<String, String> options = Map.of("padding", "max_length", "truncation", "true",
                "maxLength", Integer.toString(length), "addSpecialTokens", "true");
        try {
            return new TextTokens(HuggingFaceTokenizer.newInstance(tokenizerJson, options), length);
        } catch (IOException | RuntimeException e) {
            throw new EngineException(tokenizerJson + ": not a tokenizer.json the Hugging Face tokenizers library reads ("
                    + e.getMessage() + ")");
        } catch (UnsatisfiedLinkError e) {
            throw new EngineException("the tokenizers library's native code does not load on this machine: " + e.getMessage());
        }
    }

    Tokens encode(String line) {
        Encoding encoding = tokenizer.encode(line);
        long[] ids = encoding.getIds();
        if (ids.length != length) {
            throw new EngineException("the tokenizer gave " + ids.length + " tokens where " + length + " were asked for");
        }
        return new Tokens(ids, encoding.getAttentionMask(), encoding.getTypeIds(), encoding.exceedMaxLength());
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}

package io.modelpress.plugins.pruning;

import ai.onnx.proto.OnnxMl.ModelProto;
import com.github.luben.zstd.ZstdOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * How small a model file gets through zstd, measured by compressing it into a counter. Pruned
 * zeros shrink nothing in an ONNX file; this figure shows what they are worth once packaged.
 */
final class PackedSize {

    /** A quick level: the {@code package} plugin's stronger default level packs smaller still. */
    static final int LEVEL = 3;

    private PackedSize() {
    }

    static long of(ModelProto model) {
        CountingStream counter = new CountingStream();
        try (ZstdOutputStream zstd = new ZstdOutputStream(counter, LEVEL)) {
            model.writeTo(zstd);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot measure the packed size: " + e.getMessage(), e);
        }
        return counter.count;
    }

    private static final class CountingStream extends OutputStream {
        long count;

        @Override
        public void write(int b) {
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            count += len;
        }
    }
}

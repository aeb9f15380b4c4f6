package io.modelpress.plugins.packaging;

import io.modelpress.model.ModelException;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.SaveOptions;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.OptionSpec;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.PluginSpi;
import io.modelpress.spi.Technique;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The last stage of Deep Compression: the model file written through a lossless compressor. Zeros
 * from pruning and the few distinct values of weight sharing take room in an ONNX file; zstd
 * takes it back. The model itself is returned unchanged; the packed file is the artifact
 * {@value #ARTIFACT}, a standard zstd frame that {@code zstd -d} or {@link Unpacker} turns back into
 * the same bytes.
 */
public final class PackagePlugin implements CompressionPlugin {

    static final String ARTIFACT = "model.onnx.zst";
    static final String LEVEL = "level";
    static final String LONG = "long";
    static final String THREADS = "threads";

    @Override
    public String id() {
        return "package";
    }

    @Override
    public String version() {
        return "1.0.0";
    }

    @Override
    public int spiVersion() {
        return PluginSpi.VERSION;
    }

    @Override
    public Technique technique() {
        return Technique.PACKAGING;
    }

    @Override
    public String description() {
        return "Packs the model into model.onnx.zst (standard zstd, unpack with `zstd -d`); put it last in a chain";
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(
                OptionSpec.integer(LEVEL, 19, 1, 22, "zstd level: 1 fastest, 19 strong, 20-22 strongest and slowest"),
                OptionSpec.flag(LONG, false, "long-distance matching over a 128 MiB window (helps large models;"
                        + " still unpacks with a plain `zstd -d`)"),
                OptionSpec.integer(THREADS, 0, 0, 256, "compression threads; 0 uses one per core"));
    }

    @Override
    public PluginResult apply(OnnxModel model, PluginOptions options, PluginContext context) throws PluginException {
        ZstdFiles.Settings settings = new ZstdFiles.Settings(options.intValue(LEVEL), options.flag(LONG),
                threads(options.intValue(THREADS)));
        Path folder = context.tempDir();
        Path onnx = folder.resolve("model.onnx");
        Path packed = folder.resolve(ARTIFACT);
        try {
            context.progress(0.0, "writing the model as one ONNX file");
            long onnxBytes = writeInline(model, onnx);
            context.checkCancelled();
            long packedBytes = ZstdFiles.compress(onnx, packed, settings, (done, total) -> {
                context.checkCancelled();
                context.progress(0.05 + 0.85 * done / Math.max(1, total), "zstd level " + settings.level() + ": "
                        + done / (1 << 20) + " of " + total / (1 << 20) + " MiB");
            });
            context.progress(0.9, "checking that the packed file unpacks to the same bytes");
            if (!ZstdFiles.unpacksTo(packed, onnx)) {
                throw new PluginException("the packed file does not unpack to the model it was made from; nothing written");
            }
            Files.deleteIfExists(onnx);
            context.progress(1.0, "done");
            double ratio = (double) onnxBytes / packedBytes;
            return PluginResult.builder(model)
                    .change(String.format(Locale.ROOT, "packed model.onnx (%,d bytes) into %s (%,d bytes, %.2fx smaller)"
                            + " with zstd level %d%s; unpack with `zstd -d %s` or %s", onnxBytes, ARTIFACT, packedBytes,
                            ratio, settings.level(), settings.longWindow() ? " and a long window" : "", ARTIFACT,
                            Unpacker.class.getName()))
                    .figure("onnx-bytes", onnxBytes)
                    .figure("packaged-bytes", packedBytes)
                    .figure("ratio", ratio)
                    .figure("level", settings.level())
                    .artifact(ARTIFACT, packed)
                    .build();
        } catch (IOException e) {
            throw new PluginException("cannot write " + ARTIFACT + " in " + folder + ": " + e.getMessage(), e);
        }
    }

    /** The model as one self-contained ONNX file (tensors inline): what unpacking gives back. */
    private static long writeInline(OnnxModel model, Path file) throws PluginException {
        if (model.serializedSize() > SaveOptions.INLINE_LIMIT) {
            throw new PluginException(String.format(Locale.ROOT, "the model is %,d bytes; packaging supports models"
                    + " that fit in one ONNX file (up to %,d bytes), not ones that need external data",
                    model.serializedSize(), SaveOptions.INLINE_LIMIT));
        }
        try {
            return model.save(file, SaveOptions.inline()).totalBytes();
        } catch (ModelException e) {
            throw new PluginException(e.getMessage(), e);
        }
    }

    private static int threads(int option) {
        return option > 0 ? option : Runtime.getRuntime().availableProcessors();
    }
}

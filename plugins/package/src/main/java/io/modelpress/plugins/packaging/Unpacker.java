package io.modelpress.plugins.packaging;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Unpacks a model that the {@code package} plugin wrote:
 * {@code java -cp modelpress-plugin-package.jar:zstd-jni.jar io.modelpress.plugins.packaging.Unpacker model.onnx.zst model.onnx}.
 * The file is a standard zstd frame, so {@code zstd -d model.onnx.zst} gives the same model.
 * Exit codes: 0 done, 1 the file could not be unpacked, 2 bad usage.
 */
public final class Unpacker {

    private Unpacker() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** What {@link #main} does, without exiting: returns the exit code. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length != 2) {
            err.println("usage: Unpacker MODEL.onnx.zst MODEL.onnx   (or: zstd -d MODEL.onnx.zst)");
            return 2;
        }
        Path source = Path.of(args[0]);
        Path target = Path.of(args[1]);
        if (!Files.isRegularFile(source)) {
            err.println("no file " + source);
            return 2;
        }
        try {
            long bytes = unpack(source, target);
            out.println("unpacked " + source + " into " + target + " (" + bytes + " bytes)");
            return 0;
        } catch (IOException | RuntimeException e) {
            err.println("cannot unpack " + source + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
                    + " (is it a zstd file the package plugin wrote?)");
            return 1;
        }
    }

    /**
     * Unpacks {@code source} into {@code target}, replacing it only once the whole file unpacked and
     * its checksum matched; returns the bytes written.
     */
    public static long unpack(Path source, Path target) throws IOException {
        Path folder = target.toAbsolutePath().getParent();
        Files.createDirectories(folder);
        Path temp = Files.createTempFile(folder, ".unpack-", ".tmp");
        try {
            long bytes = ZstdFiles.decompress(source, temp);
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return bytes;
        } finally {
            Files.deleteIfExists(temp);
        }
    }
}

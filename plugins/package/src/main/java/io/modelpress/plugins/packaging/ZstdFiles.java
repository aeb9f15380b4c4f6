package io.modelpress.plugins.packaging;

import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * Writes and reads files in the standard zstd frame format, so that the reference {@code zstd -d}
 * (and every other zstd decoder) unpacks them. Frames carry a content checksum, so a damaged file
 * is refused rather than unpacked wrongly.
 */
final class ZstdFiles {

    /**
     * Window of long-distance matching: 2^27 bytes (128 MiB) is the largest window that a stock
     * {@code zstd -d} accepts without {@code --long} or {@code --memory}, so a packed model always
     * unpacks with the plain command.
     */
    static final int LONG_WINDOW_LOG = 27;

    private static final int CHUNK = 1 << 20;

    private ZstdFiles() {
    }

    /** How to compress. {@code workers} 0 compresses on the calling thread. */
    record Settings(int level, boolean longWindow, int workers) {
        Settings {
            if (level < 1 || level > 22) {
                throw new IllegalArgumentException("zstd level must be 1..22, not " + level);
            }
            if (workers < 0) {
                throw new IllegalArgumentException("workers must not be negative");
            }
        }
    }

    /** Called between chunks: {@code done} of {@code total} bytes read; may throw to stop. */
    interface Progress {
        void update(long done, long total);
    }

    /** Compresses {@code source} into {@code target}; returns the bytes written. */
    static long compress(Path source, Path target, Settings settings, Progress progress) throws IOException {
        Objects.requireNonNull(progress, "progress is null");
        long total = Files.size(source);
        try (InputStream in = Files.newInputStream(source);
                OutputStream file = Files.newOutputStream(target);
                ZstdOutputStream out = new ZstdOutputStream(file, settings.level())) {
            out.setChecksum(true);
            if (settings.longWindow()) {
                out.setLong(LONG_WINDOW_LOG);
            }
            if (settings.workers() > 0) {
                out.setWorkers(settings.workers());
            }
            byte[] buffer = new byte[CHUNK];
            long done = 0;
            for (int read = in.read(buffer); read >= 0; read = in.read(buffer)) {
                out.write(buffer, 0, read);
                done += read;
                progress.update(done, total);
            }
        }
        return Files.size(target);
    }

    /** Unpacks a zstd file into {@code target}; returns the bytes written. */
    static long decompress(Path source, Path target) throws IOException {
        try (InputStream in = open(source); OutputStream out = Files.newOutputStream(target)) {
            return in.transferTo(out);
        }
    }

    /** Whether unpacking {@code packed} gives exactly the bytes of {@code original}. */
    static boolean unpacksTo(Path packed, Path original) throws IOException {
        try (InputStream unpacked = open(packed);
                InputStream expected = new BufferedInputStream(Files.newInputStream(original), CHUNK)) {
            byte[] a = new byte[CHUNK];
            byte[] b = new byte[CHUNK];
            while (true) {
                int n = unpacked.readNBytes(a, 0, CHUNK);
                int m = expected.readNBytes(b, 0, CHUNK);
                if (n != m || !Arrays.equals(a, 0, n, b, 0, m)) {
                    return false;
                }
                if (n < CHUNK) {
                    return true;
                }
            }
        }
    }

    private static InputStream open(Path source) throws IOException {
        InputStream file = Files.newInputStream(source);
        try {
            return new BufferedInputStream(new ZstdInputStream(new BufferedInputStream(file, CHUNK)), CHUNK);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }
}

package io.modelpress.compressor;

import static java.util.Objects.requireNonNull;

import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * This process's part of the work folder, {@code <work>/run-<id>/}, and the removal of what dead
 * processes left there.
 *
 * <p>A job removes its own folder when it ends, but a process that is halted (out of memory, see
 * {@link Fatal}) or killed never does. Several processes may share one work folder, so a folder is
 * only removed when its owner is known to be dead: each process holds an exclusive lock on
 * {@code run-<id>/.lock} for its whole life, and the operating system releases it when the process
 * ends, however it ends. At start every {@code run-*} folder whose lock can be taken is a dead
 * process's and is removed.
 *
 * <p>The folder is made under a name no other process sweeps ({@code .new-*}), locked, and only then
 * renamed to {@code run-<id>}: a {@code run-*} folder of a live process is never seen unlocked. A
 * process that dies between the two leaves an empty {@code .new-*} folder behind, which is kept.
 */
@Startup // the sweep happens when the service starts, not at its first event
@ApplicationScoped
public class WorkFolder {

    private static final Logger LOG = Logger.getLogger(WorkFolder.class);
    static final String RUN_PREFIX = "run-";
    static final String LOCK = ".lock";

    private final Path root;
    private final Path run;
    private final FileChannel channel;
    private final FileLock lock;

    @Inject
    public WorkFolder(CompressorConfig config) {
        this(config.workDir());
    }

    /**
     * Removes what dead processes left under {@code root}, then makes and locks this process's folder.
     *
     * @throws UncheckedIOException when the work folder cannot be made or locked
     */
    WorkFolder(Path root) {
        this.root = requireNonNull(root, "root is null").toAbsolutePath();
        try {
            Files.createDirectories(this.root);
            sweep();
            Path fresh = Files.createTempDirectory(this.root, ".new-");
            this.channel = FileChannel.open(fresh.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            this.lock = channel.tryLock();
            if (lock == null) {
                channel.close();
                throw new IOException("the new folder's lock " + fresh.resolve(LOCK) + " is held by another process");
            }
            this.run = Files.move(fresh, this.root.resolve(RUN_PREFIX + UUID.randomUUID()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the work folder " + this.root
                    + " (MODELPRESS_WORK_DIR): " + e.getMessage(), e);
        }
        LOG.infof("work folder %s", run);
    }

    /** This process's folder, removed at a clean stop and by the next start after any other end. */
    Path run() {
        return run;
    }

    /** A new, not yet existing folder for one job, inside this process's folder. */
    Path newJob() {
        return run.resolve(UUID.randomUUID().toString());
    }

    /** Removes this process's folder and releases its lock; a job still writing there loses its files. */
    @PreDestroy
    void close() {
        try {
            deleteTree(run, path -> !path.getFileName().toString().equals(LOCK));
            // The lock goes last: until then no other process may take the folder for a dead one.
            Files.deleteIfExists(run.resolve(LOCK));
            Files.deleteIfExists(run);
        } catch (IOException | UncheckedIOException e) {
            LOG.warnf("work folder %s left behind (removed at the next start): %s", run, e.getMessage());
        } finally {
            try {
                channel.close(); // releases the lock
            } catch (IOException e) {
                LOG.debugf("closing the lock of %s: %s", run, e.getMessage());
            }
        }
    }

    /** The {@code run-*} folders whose owner has ended, removed. */
    private void sweep() throws IOException {
        List<Path> runs = new ArrayList<>();
        try (DirectoryStream<Path> folders = Files.newDirectoryStream(root, RUN_PREFIX + "*")) {
            folders.forEach(runs::add);
        }
        for (Path folder : runs) {
            if (Files.isDirectory(folder)) {
                removeIfDead(folder);
            }
        }
    }

    private static void removeIfDead(Path folder) {
        Path lockFile = folder.resolve(LOCK);
        try (FileChannel other = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
            FileLock taken;
            try {
                taken = other.tryLock();
            } catch (OverlappingFileLockException e) {
                taken = null; // held inside this very JVM: alive
            }
            if (taken == null) {
                return;
            }
            // Held from here until the folder is gone, so no other starting process removes it at the same time.
            deleteTree(folder, path -> !path.equals(lockFile));
            Files.deleteIfExists(lockFile);
            Files.deleteIfExists(folder);
            LOG.infof("removed %s, left by a process that ended without a clean stop", folder);
        } catch (NoSuchFileException e) {
            // Removed meanwhile by another starting process, or a run that died while it was being removed.
            if (Files.isDirectory(folder) && !Files.exists(lockFile)) {
                deleteQuietly(folder);
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.warnf("cannot remove %s, left by an earlier process: %s", folder, e.getMessage());
        }
    }

    private static void deleteQuietly(Path folder) {
        try {
            deleteTree(folder, path -> true);
            Files.deleteIfExists(folder);
        } catch (IOException | UncheckedIOException e) {
            LOG.warnf("cannot remove %s, left by an earlier process: %s", folder, e.getMessage());
        }
    }

    /** Everything inside {@code folder} the filter accepts, deepest first; the folder itself stays. */
    private static void deleteTree(Path folder, java.util.function.Predicate<Path> filter) throws IOException {
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(folder)) {
            paths = walk.filter(path -> !path.equals(folder)).filter(filter)
                    .sorted(Comparator.reverseOrder()).toList();
        } catch (NoSuchFileException e) {
            return;
        }
        for (Path path : paths) {
            Files.deleteIfExists(path);
        }
    }
}

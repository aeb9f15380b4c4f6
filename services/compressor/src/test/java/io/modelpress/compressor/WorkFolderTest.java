package io.modelpress.compressor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What halted or killed processes leave in the work folder goes at the next start; a live process's stays. */
class WorkFolderTest {

    /** Run by a child JVM: locks the file, says so, and holds the lock until its input closes. */
    private static final String HOLDER = """
            import java.nio.channels.FileChannel;
            import java.nio.file.Path;
            import java.nio.file.StandardOpenOption;
            public class Holder {
                public static void main(String[] args) throws Exception {
                    try (FileChannel channel = FileChannel.open(Path.of(args[0]), StandardOpenOption.WRITE)) {
                        if (channel.tryLock() == null) {
                            System.out.println("busy");
                            return;
                        }
                        System.out.println("locked");
                        System.out.flush();
                        System.in.read();
                    }
                }
            }
            """;

    @TempDir
    Path work;

    @Test
    void aDeadProcesssFolderIsRemovedAtStartAndALiveOnesIsKept() throws Exception {
        Path dead = Files.createDirectories(work.resolve("run-dead/6f1c/input"));
        Files.writeString(dead.resolve("model.onnx"), "left by a halted process");
        Files.createFile(work.resolve("run-dead/.lock"));
        Path noLock = Files.createDirectories(work.resolve("run-half-removed/out"));
        Path alive = Files.createDirectories(work.resolve("run-alive/9a2e/input"));
        Files.writeString(alive.resolve("model.onnx"), "in use by a live process");
        Path aliveLock = Files.createFile(work.resolve("run-alive/.lock"));
        Path other = Files.writeString(work.resolve("not-a-run.txt"), "not ours");

        Process holder = holdLock(aliveLock);
        try {
            WorkFolder folder = new WorkFolder(work);
            try {
                assertFalse(Files.exists(work.resolve("run-dead")), "the dead process's folder is removed");
                assertFalse(Files.exists(noLock.getParent()), "a run folder without its lock is removed");
                assertTrue(Files.exists(alive.resolve("model.onnx")), "a live process's folder is kept");
                assertTrue(Files.exists(other), "files that are no run's are kept");
                assertTrue(folder.run().getFileName().toString().startsWith(WorkFolder.RUN_PREFIX));
                assertTrue(folder.newJob().startsWith(folder.run()));
                assertEquals(Set.of("run-alive", folder.run().getFileName().toString()), runs(),
                        "the live process's and this one's");
            } finally {
                folder.close();
            }
            assertFalse(Files.exists(folder.run()), "a clean stop removes the process's own folder");
        } finally {
            holder.getOutputStream().close();
            holder.waitFor(30, TimeUnit.SECONDS);
        }
        // Its owner has ended now: the next start takes it.
        new WorkFolder(work).close();
        assertEquals(Set.of(), runs());
    }

    @Test
    void aSecondProcessOnTheSameFolderKeepsTheFirstOnesFolder() throws Exception {
        WorkFolder first = new WorkFolder(work);
        Path job = Files.createDirectories(first.newJob());
        Files.writeString(job.resolve("model.onnx"), "working");
        try {
            WorkFolder second = new WorkFolder(work);
            second.close();
            assertTrue(Files.exists(job.resolve("model.onnx")));
        } finally {
            first.close();
        }
        assertEquals(Set.of(), runs());
    }

    /** The folders of processes, by name. */
    private Set<String> runs() throws Exception {
        try (Stream<Path> files = Files.list(work)) {
            return files.map(path -> path.getFileName().toString()).filter(name -> name.startsWith("run-"))
                    .collect(Collectors.toSet());
        }
    }

    /** Another process holds the lock, as a live service does (a lock of this JVM would not show that). */
    private Process holdLock(Path lock) throws Exception {
        Path source = Files.writeString(work.resolve("Holder.java"), HOLDER);
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process process = new ProcessBuilder(java.toString(), "-Xmx32m", source.toString(), lock.toString())
                .redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        assertEquals("locked", line, "the child holds the lock");
        return process;
    }
}

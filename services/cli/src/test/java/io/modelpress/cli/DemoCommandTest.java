package io.modelpress.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code modelpress demo --once} for real: a Kafka broker, an S3 server and the packaged compressor
 * service as child processes, the sample registered, its events printed, everything stopped at exit.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES) // a guard against hangs, not a performance check
class DemoCommandTest {

    private static final Pattern PORT = Pattern.compile("127\\.0\\.0\\.1:(\\d+)");

    @TempDir
    Path temp;

    @Test
    void onceRegistersTheSampleAndPrintsItsResultsThenStopsEverything() throws IOException {
        Path serviceJar = Path.of(System.getProperty("modelpress.service.jar", "../compressor/target/quarkus-app/quarkus-run.jar"));
        assertTrue(Files.isRegularFile(serviceJar), "the demo runs the packaged service; build services/compressor first: "
                + serviceJar.toAbsolutePath());
        Path work = temp.resolve("demo");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = ModelpressCli.run(new String[] {"demo", "--work", work.toString(), "--service-jar", serviceJar.toString(),
            "--once", "--profile", "x86-vnni", "--chain", "graph-cleanup", "--service-heap", "1g"},
                new PrintWriter(out, true), new PrintWriter(err, true));
        String printed = out.toString();
        assertEquals(0, exit, () -> printed + err + tail(work.resolve("service/service.log")));

        // the event went through the service: its progress, then its result with accuracy on the labelled digits
        assertTrue(printed.contains("progress  demo/mnist-mlp v1"), printed);
        assertTrue(printed.indexOf("progress  demo/mnist-mlp v1") < printed.indexOf("result    demo/mnist-mlp v1 x86-vnni: complete"),
                printed);
        assertTrue(printed.contains("accuracy on 2000 labelled examples: top-1 "), printed);
        assertTrue(printed.contains("benchmark demo/mnist-mlp v1 x86-vnni: latency p50 "), printed);
        String row = printed.lines().filter(line -> line.trim().startsWith("x86-vnni")).reduce((first, last) -> last)
                .orElseThrow(() -> new AssertionError("no summary row: " + printed));
        assertTrue(row.matches("\\s+x86-vnni\\s+complete\\s+labelled-data\\s+graph-cleanup\\s+.*\\d+\\.\\d\\d% -> "
                + "\\d+\\.\\d\\d%.* ms"), "the row says what judged the result: " + row);

        // and where the result lies on disk, not only its s3:// URI
        String onDisk = printed.lines().filter(line -> line.trim().startsWith("on disk (x86-vnni): ")).findFirst()
                .orElseThrow(() -> new AssertionError("no disk path: " + printed));
        Path model = Path.of(onDisk.trim().substring("on disk (x86-vnni): ".length()));
        assertTrue(Files.isRegularFile(model) && model.getFileName().toString().equals("model.onnx"), onDisk);
        assertTrue(printed.contains("          on disk   " + model), printed);

        // everything it started is stopped, and a later 'demo register' is told that no demo runs
        List<Integer> ports = ports(printed);
        assertEquals(3, ports.size(), () -> "Kafka, S3 and service ports in: " + printed);
        for (int port : ports) {
            assertFalse(listening(port), "port " + port + " is still open after the demo exited");
        }
        assertFalse(Files.exists(work.resolve(DemoEndpoints.FILE)));
        StringWriter registerErr = new StringWriter();
        int registered = ModelpressCli.run(new String[] {"demo", "--work", work.toString(), "register",
            work.resolve("sample/mnist-mlp.onnx").toString()}, new PrintWriter(new StringWriter(), true),
                new PrintWriter(registerErr, true));
        assertEquals(ModelpressCli.BAD_INPUT, registered, registerErr::toString);
        assertTrue(registerErr.toString().contains("no demo is running"), registerErr::toString);
    }

    /** The ports of Kafka, S3 and the service, as the demo printed them. */
    private static List<Integer> ports(String printed) {
        String starts = printed.lines().filter(line -> line.startsWith("   Kafka ") || line.startsWith("   ready at "))
                .reduce("", (all, line) -> all + line + "\n");
        Matcher matcher = PORT.matcher(starts);
        List<Integer> ports = new java.util.ArrayList<>();
        while (matcher.find()) {
            ports.add(Integer.parseInt(matcher.group(1)));
        }
        return ports;
    }

    private static boolean listening(int port) {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String tail(Path log) {
        return "\nservice log:\n" + io.modelpress.localstack.ChildProcess.tail(log, 40);
    }
}

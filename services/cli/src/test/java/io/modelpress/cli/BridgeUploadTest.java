package io.modelpress.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.localstack.LocalStack;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole way in through the registry bridge: the packaged compressor and bridge as child JVMs on a
 * real Kafka broker and S3 server, and {@code modelpress register} uploading the demo's MNIST sample
 * until its result comes back through the bridge's status.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES) // a guard against hangs, not a performance check
class BridgeUploadTest {

    @TempDir
    Path temp;

    @Test
    void aModelUploadedToTheBridgeGetsItsResults() throws IOException {
        Path serviceJar = Path.of(System.getProperty("modelpress.service.jar",
                "../compressor/target/quarkus-app/quarkus-run.jar"));
        Path bridgeJar = Path.of(System.getProperty("modelpress.bridge.jar",
                "../registry-bridge/target/quarkus-app/quarkus-run.jar"));
        assertTrue(Files.isRegularFile(serviceJar), "build services/compressor first: " + serviceJar.toAbsolutePath());
        assertTrue(Files.isRegularFile(bridgeJar), "build services/registry-bridge first: " + bridgeJar.toAbsolutePath());
        DemoSample sample = DemoSample.write(temp.resolve("sample"));
        try (LocalStack stack = LocalStack.builder().workFolder(temp.resolve("stack")).start()) {
            DemoEndpoints partial = new DemoEndpoints(stack.bootstrapServers(), stack.s3Endpoint(), stack.accessKey(),
                    stack.secretKey(), DemoCommand.BUCKET, stack.s3Endpoint());
            try (ModelRegistrar registrar = new ModelRegistrar(partial)) {
                registrar.ensureBucket();
            }
            Map<String, String> compressor = new HashMap<>(stack.environment());
            compressor.put("MODELPRESS_MAX_IN_FLIGHT", "1");
            compressor.put("MODELPRESS_INPUTS_ALLOWED", DemoCommand.BUCKET);
            Map<String, String> bridge = new HashMap<>();
            bridge.put("KAFKA_BOOTSTRAP_SERVERS", stack.bootstrapServers());
            bridge.put("MODELPRESS_BRIDGE_S3_ENDPOINT", stack.s3Endpoint().toString());
            bridge.put("MODELPRESS_BRIDGE_S3_ACCESS_KEY", stack.accessKey());
            bridge.put("MODELPRESS_BRIDGE_S3_SECRET_KEY", stack.secretKey());
            bridge.put("MODELPRESS_BRIDGE_DATA_DIR", temp.resolve("bridge-data").toString());
            try (DemoService service = DemoService.start(serviceJar, compressor, "1g", temp.resolve("service"),
                    Duration.ofMinutes(3));
                    DemoService registry = DemoService.start("registry bridge", "/q/health/ready", bridgeJar, bridge, "512m",
                            temp.resolve("bridge"), Duration.ofMinutes(3))) {
                StringWriter out = new StringWriter();
                StringWriter err = new StringWriter();
                int exit = ModelpressCli.run(new String[] {"register", sample.model().toString(), "--bridge",
                    registry.url().toString(), "--model-id", "uploads/mnist", "--version", "1", "--profile", "x86-vnni",
                    "--chain", "graph-cleanup", "--calibration", sample.calibration().toString(), "--evaluation",
                    sample.evaluation().toString(), "--timeout", "4m"},
                        new PrintWriter(out, true), new PrintWriter(err, true));
                String printed = out.toString();
                assertEquals(0, exit, () -> printed + err + "\nservice log " + service.log() + ", bridge log "
                        + registry.log());
                assertTrue(printed.contains("accepted uploads/mnist version 1"), printed);
                assertTrue(printed.matches("(?s).*x86-vnni\\s+complete: \\d+\\.\\d\\dx smaller, drop \\d\\.\\d{4}"
                        + " \\(labelled data: top-1 accuracy on 2000 examples.*"), printed);
                assertTrue(printed.contains("s3://models/registry/upload/uploads/mnist/1/model/modelpress/x86-vnni/"),
                        printed);
            }
        }
    }
}

package io.modelpress.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.modelpress.model.SaveOptions;
import io.modelpress.testkit.TestModels;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code modelpress register} against a loopback server that answers as the registry bridge's upload API
 * does (its own tests run the real bridge): what the command sends, how it follows the status, and its
 * one-line errors.
 */
class RegisterCommandTest {

    @TempDir
    Path temp;

    private HttpServer server;
    private final AtomicReference<byte[]> uploaded = new AtomicReference<>();
    private final AtomicInteger polls = new AtomicInteger();
    private volatile int uploadStatus = 202;
    private volatile String uploadAnswer = "{\"state\":\"accepted\"}";

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/models", this::handle);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if ("POST".equals(exchange.getRequestMethod())) {
                uploaded.set(exchange.getRequestBody().readAllBytes());
                exchange.getResponseHeaders().add("Location", "/models/mlp/7");
                answer(exchange, uploadStatus, uploadAnswer);
                return;
            }
            // pending twice, then complete
            String profile = polls.incrementAndGet() < 3 ? "{\"status\":\"pending\"}"
                    : "{\"status\":\"complete\",\"artifactUri\":\"s3://models/x/model.onnx\",\"sizeRatio\":3.9,"
                            + "\"drop\":0.002,\"judgedBy\":\"fidelity on generated inputs\"}";
            answer(exchange, 200, "{\"modelId\":\"mlp\",\"version\":\"7\",\"state\":\"published\",\"profiles\":"
                    + "{\"x86-vnni\":" + profile + "}}");
        }
    }

    private static void answer(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", status >= 400 ? "application/problem+json" : "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private record Run(int exit, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = ModelpressCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void uploadsTheModelWithItsExternalDataAndFollowsTheStatus() throws Exception {
        Path model = temp.resolve("mlp.onnx");
        TestModels.mlp(16, 32, 8, 3).save(model, SaveOptions.external("mlp.onnx.data"));
        Path calibration = temp.resolve("calib.npz");
        Files.write(calibration, new byte[] {1, 2, 3});
        Run run = run("register", model.toString(), "--bridge", url(), "--version", "7", "--profile", "x86-vnni",
                "--calibration", calibration.toString(), "--label", "team=vision", "--poll", "1s");
        assertEquals(0, run.exit(), run.err() + run.out());
        String body = new String(uploaded.get(), StandardCharsets.ISO_8859_1);
        assertTrue(body.contains("name=\"metadata\""), body);
        assertTrue(body.contains("\"modelId\":\"mlp\"") && body.contains("\"version\":\"7\"")
                && body.contains("\"profiles\":[\"x86-vnni\"]") && body.contains("\"team\":\"vision\""), body);
        assertTrue(body.contains("name=\"model\"; filename=\"mlp.onnx\""), body);
        assertTrue(body.contains("name=\"externalData\"; filename=\"mlp.onnx.data\""), "the external data goes along");
        assertTrue(body.contains("name=\"calibration\"; filename=\"calib.npz\""), body);
        assertTrue(body.length() > Files.size(model) + Files.size(temp.resolve("mlp.onnx.data")), "whole files sent");
        assertTrue(run.out().contains("accepted mlp version 7"), run.out());
        assertTrue(run.out().contains("x86-vnni") && run.out().contains("3.90x smaller"), run.out());
        assertTrue(polls.get() >= 3);
    }

    @Test
    void aRefusalIsOneLineWithTheBridgesReason() throws Exception {
        Path model = temp.resolve("mlp.onnx");
        TestModels.mlp(4, 8, 2, 1).save(model, SaveOptions.inline());
        uploadStatus = 400;
        uploadAnswer = "{\"title\":\"Bad input\",\"status\":400,\"detail\":\"metadata.profiles[0]: does not match\","
                + "\"field\":\"metadata.profiles[0]\"}";
        Run run = run("register", model.toString(), "--bridge", url(), "--profile", "x86-vnni");
        assertEquals(2, run.exit());
        assertEquals("modelpress: the registry bridge refused the upload (400): metadata.profiles[0]: does not match",
                run.err().strip());
    }

    @Test
    void anUnreachableBridgeIsNamed() throws Exception {
        Path model = temp.resolve("mlp.onnx");
        TestModels.mlp(4, 8, 2, 1).save(model, SaveOptions.inline());
        server.stop(0);
        Run run = run("register", model.toString(), "--bridge", url());
        assertEquals(2, run.exit());
        assertTrue(run.err().contains("cannot reach the registry bridge at " + url()), run.err());
        assertEquals(1, run.err().strip().lines().count(), run.err());
    }
}

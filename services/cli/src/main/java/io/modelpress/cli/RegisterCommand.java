package io.modelpress.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelpress.engine.EngineException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Registers a model with any running registry bridge through its upload API, then follows its status. */
@Command(name = "register", description = "Uploads a model (with its external data) to a registry bridge"
        + " (POST /models), which stores it and asks the compressor for it; then prints each profile's outcome.")
final class RegisterCommand implements Callable<Integer> {

    static final String BRIDGE_VARIABLE = "MODELPRESS_BRIDGE_URL";
    static final String DEFAULT_BRIDGE = "http://localhost:8081";
    private static final DateTimeFormatter VERSION = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Parameters(paramLabel = "MODEL", description = "an .onnx file (external data files it names are uploaded with it)")
    Path model;

    @Option(names = "--bridge", paramLabel = "URL", description = "the registry bridge (default: $" + BRIDGE_VARIABLE
            + ", else " + DEFAULT_BRIDGE + ")")
    String bridge;

    @Option(names = "--model-id", paramLabel = "ID", description = "the model's name (default: the file name)")
    String modelId;

    @Option(names = "--version", paramLabel = "V", description = "the model version (default: the time now, UTC)")
    String version;

    @Option(names = "--profile", paramLabel = "ID", description = "a profile to compress for; repeat for more"
            + " (default: the bridge's, else the compressor's)")
    List<String> profiles = List.of();

    @Option(names = "--chain", paramLabel = "ID[:key=value,...]", description = "a step of an explicit chain, in order")
    List<String> chain = List.of();

    @Option(names = "--max-accuracy-drop", paramLabel = "POINTS",
            description = "the accuracy the result may lose, in percentage points (1 is one point)")
    Double maxAccuracyDrop;

    @Option(names = "--label", paramLabel = "KEY=VALUE", description = "a label copied into every result; repeatable")
    Map<String, String> labels = new HashMap<>();

    @Option(names = "--calibration", paramLabel = "FILE.npz", description = "representative inputs (numpy.savez)")
    Path calibration;

    @Option(names = "--evaluation", paramLabel = "FILE.npz", description = "labelled inputs for accuracy")
    Path evaluation;

    @Option(names = "--no-wait", description = "exit once the bridge has accepted the model")
    boolean noWait;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30m",
            description = "how long to wait for every profile (default: ${DEFAULT-VALUE})")
    String timeout;

    @Option(names = "--poll", paramLabel = "DURATION", defaultValue = "2s", hidden = true)
    String poll;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        Duration wait = Durations.parse("--timeout", timeout);
        Duration every = Durations.parse("--poll", poll);
        requireFile(model, "MODEL");
        String id = modelId != null ? modelId : model.getFileName().toString().replaceFirst("\\.onnx$", "");
        String v = version != null ? version : VERSION.format(ZonedDateTime.now(ZoneOffset.UTC));
        BridgeClient client = new BridgeClient(bridgeUrl());
        BridgeClient.Answer accepted = client.upload(parts(id, v));
        String location = accepted.location() != null ? accepted.location() : "/models/" + id + "/" + v;
        out.printf("accepted %s version %s by %s; status at %s%n", id, v, client.base(),
                client.base().resolve(location.startsWith("/") ? location.substring(1) : location));
        out.flush();
        if (noWait) {
            return ModelpressCli.OK;
        }
        return follow(client, location, wait, every, out);
    }

    private URI bridgeUrl() {
        String url = bridge != null ? bridge : System.getenv().getOrDefault(BRIDGE_VARIABLE, DEFAULT_BRIDGE);
        try {
            URI uri = URI.create(url.trim());
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new IllegalArgumentException("not an http(s) URL");
            }
            return uri;
        } catch (IllegalArgumentException e) {
            throw new EngineException("--bridge '" + url + "' is not an http(s) URL");
        }
    }

    private List<BridgeClient.Part> parts(String id, String v) {
        ObjectNode metadata = JSON.createObjectNode();
        metadata.put("modelId", id);
        metadata.put("version", v);
        if (!profiles.isEmpty()) {
            profiles.forEach(metadata.putArray("profiles")::add);
        }
        if (!chain.isEmpty()) {
            chain.forEach(metadata.putArray("chain")::add);
        }
        if (maxAccuracyDrop != null) {
            metadata.putObject("budgets").put("maxAccuracyDrop", maxAccuracyDrop);
        }
        if (!labels.isEmpty()) {
            ObjectNode labelNode = metadata.putObject("labels");
            labels.forEach(labelNode::put);
        }
        List<BridgeClient.Part> parts = new ArrayList<>();
        parts.add(new BridgeClient.Part("metadata", metadata.toString(), null, null));
        parts.add(new BridgeClient.Part("model", null, model, model.getFileName().toString()));
        for (String data : ModelRegistrar.externalDataFiles(model)) {
            Path file = model.resolveSibling(data);
            requireFile(file, model + " keeps tensors in " + data + ", which is not beside it:");
            parts.add(new BridgeClient.Part("externalData", null, file, data));
        }
        if (calibration != null) {
            requireFile(calibration, "--calibration");
            parts.add(new BridgeClient.Part("calibration", null, calibration, calibration.getFileName().toString()));
        }
        if (evaluation != null) {
            requireFile(evaluation, "--evaluation");
            parts.add(new BridgeClient.Part("evaluation", null, evaluation, evaluation.getFileName().toString()));
        }
        return parts;
    }

    /** Polls the status, printing each profile once it ends; 0 when every profile completed. */
    private static int follow(BridgeClient client, String location, Duration wait, Duration every, PrintWriter out)
            throws InterruptedException {
        Instant deadline = Instant.now().plus(wait);
        Map<String, String> printed = new HashMap<>();
        while (true) {
            JsonNode status = client.status(location);
            if ("failed".equals(status.path("state").asText())) {
                out.printf("failed: %s%n", status.path("reason").asText());
                return ModelpressCli.FAILED;
            }
            boolean allEnded = status.path("profiles").size() > 0;
            for (Iterator<Map.Entry<String, JsonNode>> it = status.path("profiles").fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> profile = it.next();
                String state = profile.getValue().path("status").asText();
                allEnded &= !"pending".equals(state);
                if (!"pending".equals(state) && !state.equals(printed.put(profile.getKey(), state))) {
                    out.println(line(profile.getKey(), profile.getValue()));
                }
            }
            out.flush();
            if ("published".equals(status.path("state").asText()) && allEnded) {
                boolean ok = printed.values().stream().allMatch("complete"::equals);
                return ok ? ModelpressCli.OK : ModelpressCli.FAILED;
            }
            if (Instant.now().isAfter(deadline)) {
                out.printf("still waiting after %s; the status stays at %s%n", wait, location);
                return ModelpressCli.FAILED;
            }
            Thread.sleep(every.toMillis());
        }
    }

    static String line(String profile, JsonNode status) {
        if (!"complete".equals(status.path("status").asText())) {
            return String.format("%-14s failed: %s", profile, status.path("reason").asText());
        }
        return String.format(java.util.Locale.ROOT, "%-14s complete: %.2fx smaller, drop %s (%s)%n%14s %s", profile,
                status.path("sizeRatio").asDouble(), status.has("drop") ? String.format(java.util.Locale.ROOT, "%.4f",
                        status.path("drop").asDouble()) : "n/a", status.path("judgedBy").asText("not judged"), "",
                status.path("artifactUri").asText());
    }

    private static void requireFile(Path file, String what) {
        if (!Files.isRegularFile(file)) {
            throw new EngineException(what + " " + file + " is not a file");
        }
    }
}

package io.modelpress.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelpress.engine.EngineException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** Registers a model with a running demo, as a registry would, and prints what the service answers. */
@Command(name = "register", description = "Uploads a model (and its external data) to the running demo's S3, publishes"
        + " a model-registered event, and prints the events that come back until every profile is answered.")
final class DemoRegisterCommand implements Callable<Integer> {

    private static final DateTimeFormatter VERSION = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @ParentCommand
    DemoCommand demo;

    // help only: --version is the model's version here
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Parameters(paramLabel = "MODEL", description = "an .onnx file (external data files beside it are uploaded with it)")
    Path model;

    @Option(names = "--model-id", paramLabel = "ID", description = "the registry's name of the model (default: the file name)")
    String modelId;

    @Option(names = "--version", paramLabel = "V", description = "the model version (default: the time now, UTC)")
    String version;

    @Option(names = "--profile", paramLabel = "ID", description = "a profile to compress for; repeat for more"
            + " (default: x86-vnni and nvidia-fp16)")
    List<String> profiles = List.of();

    @Option(names = "--chain", paramLabel = "ID[:key=value,...]",
            description = "a step of an explicit chain, in order; without it the service chooses")
    List<String> chain = List.of();

    @Option(names = "--calibration", paramLabel = "FILE.npz", description = "representative inputs (numpy.savez)")
    Path calibration;

    @Option(names = "--evaluation", paramLabel = "FILE.npz", description = "labelled inputs for accuracy")
    Path evaluation;

    @Option(names = "--no-wait", description = "exit once the event is published")
    boolean noWait;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30m",
            description = "how long to wait for the answers (default: ${DEFAULT-VALUE})")
    String timeout;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Duration wait = Durations.parse("--timeout", timeout);
        requireFile(model, "MODEL");
        if (calibration != null) {
            requireFile(calibration, "--calibration");
        }
        if (evaluation != null) {
            requireFile(evaluation, "--evaluation");
        }
        DemoEndpoints endpoints = DemoEndpoints.load(demo.work);
        String id = modelId != null ? modelId : model.getFileName().toString().replaceFirst("\\.onnx$", "");
        String v = version != null ? version : VERSION.format(ZonedDateTime.now(ZoneOffset.UTC));
        List<String> targets = profiles.isEmpty() ? DemoCommand.DEFAULT_PROFILES : profiles;
        String prefix = id + "/" + v + "/";
        try (ModelRegistrar registrar = new ModelRegistrar(endpoints); EventFeed feed = noWait ? null
                : new EventFeed(endpoints.bootstrapServers())) {
            registrar.ensureBucket();
            ObjectNode event = registrar.event(id, v, registrar.uploadModel(model, prefix + "model/"), model, targets);
            if (calibration != null) {
                event.put("calibrationDataUri", registrar.upload(calibration, prefix + "data/calibration.npz"));
            }
            if (evaluation != null) {
                event.put("evaluationDataUri", registrar.upload(evaluation, prefix + "data/evaluation.npz"));
            }
            if (!chain.isEmpty()) {
                chain.forEach(event.putArray("chain")::add);
            }
            String eventId = registrar.register(event);
            out.printf("registered %s version %s for %s (event %s)%n", id, v, String.join(", ", targets), eventId);
            out.flush();
            if (noWait) {
                return ModelpressCli.OK;
            }
            ModelOutcome outcome = new ModelOutcome(id, v, targets);
            boolean answered = DemoCommand.follow(feed, new EventPrinter(out, DemoCommand.s3Files(demo.work)), outcome, wait, () -> false);
            return answered && outcome.succeeded() ? ModelpressCli.OK : ModelpressCli.FAILED;
        }
    }

    private static void requireFile(Path file, String what) {
        if (!Files.isRegularFile(file)) {
            throw new EngineException(what + " " + file + " is not a file");
        }
    }
}

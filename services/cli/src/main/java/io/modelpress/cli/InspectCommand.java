package io.modelpress.cli;

import io.modelpress.engine.Reports;
import io.modelpress.model.ModelSummary;
import io.modelpress.model.OnnxModel;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "inspect", mixinStandardHelpOptions = true, versionProvider = ModelpressCli.Version.class, description = "Summarises a model: versions, operators, parameters, inputs and outputs.")
final class InspectCommand implements Callable<Integer> {

    private static final int LARGEST_SHOWN = 10;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "MODEL", description = "an .onnx file (external data beside it)")
    Path model;

    @Option(names = "--json", description = "print the summary as JSON")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        OnnxModel loaded = OnnxModel.load(model, Environment.loadLimits());
        ModelSummary summary = loaded.summary();
        if (json) {
            out.println(Reports.toJson(Map.of("file", model.toString(), "digest", loaded.sourceDigest().orElse(""),
                    "bytes", loaded.sourceBytes(), "summary", summary)));
            return ModelpressCli.OK;
        }
        out.printf("%s  %s, sha256 %s%n", model.getFileName(), Format.bytes(loaded.sourceBytes()),
                loaded.sourceDigest().orElse("?"));
        out.printf("IR %d, opsets %s%s%n", summary.irVersion(), summary.opsets().entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", ")),
                summary.producer().isEmpty() ? "" : ", produced by " + summary.producer());
        out.println("inputs:");
        summary.inputs().forEach(value -> out.printf("  %s %s%s%n", value.name(), value.type(), value.shape()));
        out.println("outputs:");
        summary.outputs().forEach(value -> out.printf("  %s %s%s%n", value.name(), value.type(), value.shape()));
        out.printf("nodes: %d in %d graph%s%n", summary.nodes(), summary.subgraphs() + 1, summary.subgraphs() == 0 ? "" : "s");
        out.printf("operators: %s%n", summary.operators().entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", ")));
        out.printf("parameters: %s in %d weights, %s%n", Format.count(summary.parameters()), summary.weights().size(),
                Format.bytes(summary.weightBytes()));
        summary.byType().forEach((type, total) -> out.printf("  %-9s %6d tensors %10s parameters %10s%n", type,
                total.tensors(), Format.count(total.parameters()), Format.bytes(total.bytes())));
        out.println("largest weights:");
        summary.weights().stream().limit(LARGEST_SHOWN).forEach(weight -> out.printf("  %-40s %-8s %-18s %10s%s%s%n",
                weight.name(), weight.type(), weight.dims(), Format.bytes(weight.bytes()),
                weight.storage().equals("initializer") ? "" : "  (" + weight.storage().replace('_', ' ') + ")",
                weight.graph().equals("main") ? "" : "  in " + weight.graph()));
        if (summary.weights().size() > LARGEST_SHOWN) {
            out.printf("  ... and %d more (--json lists all)%n", summary.weights().size() - LARGEST_SHOWN);
        }
        return ModelpressCli.OK;
    }
}

package io.modelpress.cli;

import io.modelpress.engine.data.InputCheck;
import io.modelpress.engine.data.NpzData;
import io.modelpress.engine.plan.Sensitivity;
import io.modelpress.inference.InputGenerator;
import io.modelpress.inference.OrtRunner;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.TensorData;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "sensitivity", mixinStandardHelpOptions = true, versionProvider = ModelpressCli.Version.class, description = "Degrades one layer at a time and measures the effect: the layers to leave alone.")
final class SensitivityCommand implements Callable<Integer> {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "MODEL", description = "an .onnx file")
    Path model;

    @Option(names = "--mode", defaultValue = "int8", paramLabel = "MODE",
            description = "how each layer is degraded: int8, int4 or prune (half its weights) (default: ${DEFAULT-VALUE})")
    String mode;

    @Option(names = "--top", defaultValue = "20", paramLabel = "N", description = "layers shown (default: ${DEFAULT-VALUE})")
    int top;

    @Mixin
    DataOptions data;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Sensitivity.Mode degradation;
        try {
            degradation = Sensitivity.Mode.parse(mode);
        } catch (IllegalArgumentException e) {
            throw new io.modelpress.engine.EngineException(e.getMessage());
        }
        OnnxModel loaded = OnnxModel.load(model, Environment.loadLimits());
        Optional<CalibrationData> calibration = data.calibration(NpzData.inputRanks(loaded));
        calibration.ifPresent(set -> InputCheck.check(loaded, set, "calibration data"));
        List<Map<String, TensorData>> samples;
        String source;
        if (calibration.isPresent()) {
            samples = IntStream.range(0, calibration.get().size()).mapToObj(calibration.get()::sample).toList();
            source = "calibration data, " + samples.size() + " samples";
        } else {
            try (OrtRunner runner = OrtRunner.open(loaded)) {
                samples = InputGenerator.defaults().generate(runner.inputSpecs(), 4, 1);
            }
            source = "4 generated samples (pass --calibration for realistic figures)";
        }
        List<Sensitivity.Layer> layers;
        try (ProgressBar bar = ProgressBar.onStderr(false)) {
            layers = Sensitivity.analyze(loaded, degradation, samples, bar);
        }
        out.printf("%d layers, each degraded alone (%s), measured on %s; most sensitive first:%n", layers.size(), mode, source);
        out.printf("  %8s %10s %10s  %s%n", "drop", "cosine", "elements", "weight (read by)");
        layers.stream().limit(top).forEach(layer -> out.printf("  %7.3f%% %10.6f %10s  %s (%s)%n", layer.drop() * 100,
                layer.meanCosine(), Format.count(layer.elements()), layer.weight(), String.join(", ", layer.readers())));
        return ModelpressCli.OK;
    }
}

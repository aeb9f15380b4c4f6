package io.modelpress.cli;

import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.Precision;
import java.io.PrintWriter;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

@Command(name = "profiles", mixinStandardHelpOptions = true, versionProvider = ModelpressCli.Version.class, description = "Lists the hardware profiles.")
final class ProfilesCommand implements Callable<Integer> {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    Sources sources;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        for (HardwareProfile profile : sources.profiles().all()) {
            out.printf("%s  %s%n", profile.id(), profile.description());
            out.printf("  precisions %s, %s format, provider %s, batch %d, threads %s%n",
                    profile.precisions().stream().sorted().map(Precision::label).collect(Collectors.joining("/")),
                    profile.quantizedFormat().label(), profile.executionProvider(), profile.batchSize(),
                    profile.threads() == 0 ? "auto" : Integer.toString(profile.threads()));
            out.printf("  budgets: memory %s, size %s, latency %s, accuracy drop %.1f points%n",
                    bytes(profile.memoryBudgetBytes()), bytes(profile.sizeBudgetBytes()),
                    millis(profile.latencyBudgetMillis()), profile.maxAccuracyDrop());
            out.printf("  operators: %s%n%n", profile.operators().map(names -> String.join(", ", names))
                    .orElse("not declared (not checked)"));
        }
        return ModelpressCli.OK;
    }

    private static String bytes(OptionalLong value) {
        return value.isPresent() ? Format.bytes(value.getAsLong()) : "none";
    }

    private static String millis(OptionalDouble value) {
        return value.isPresent() ? String.format("%.0f ms", value.getAsDouble()) : "none";
    }
}

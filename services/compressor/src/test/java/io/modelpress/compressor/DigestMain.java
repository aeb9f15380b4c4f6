package io.modelpress.compressor;

import io.modelpress.engine.job.CanonicalJson;
import io.modelpress.engine.profile.HardwareProfiles;
import io.modelpress.spi.HardwareProfile;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * Prints the identities of one fixed request, as this JVM computes them; {@link CanonicalIdentityTest}
 * runs it in separate JVMs. The profile and the plan's options come from {@code Set.copyOf} and
 * {@code Map.of}, whose iteration orders are what differ between JVMs.
 */
public final class DigestMain {

    private DigestMain() {
    }

    public static void main(String[] args) {
        System.out.println(digests());
    }

    static String digests() {
        HardwareProfile vnni = HardwareProfiles.builtIn().require("x86-vnni");
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("profile", vnni);
        request.put("budget", new EventData.BudgetView(1, OptionalLong.of(1 << 20), OptionalDouble.of(2.5),
                OptionalLong.of(64L << 20), 0.98, 0.9, 60_000));
        request.put("plan", plan());
        request.put("labels", Map.of("team", "vision", "stage", "prod", "owner", "ml", "tier", "gold"));
        return Compressor.planDigest(vnni, plan()) + " " + CanonicalJson.digest(request, 16);
    }

    static List<EventData.PlanStep> plan() {
        return List.of(new EventData.PlanStep("graph-cleanup", "1.0.0", Map.of()),
                new EventData.PlanStep("int8-dynamic", "1.0.0",
                        Map.of("per-channel", "true", "reduce-range", "false", "weight-type", "int8", "ops", "MatMul")));
    }
}

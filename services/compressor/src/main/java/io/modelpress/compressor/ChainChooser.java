package io.modelpress.compressor;

import io.modelpress.engine.ChainStep;
import io.modelpress.engine.EngineException;
import io.modelpress.engine.job.PlanChoice;
import io.modelpress.engine.plan.Budget;
import io.modelpress.spi.HardwareProfile;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides how each profile's chain is found: the event's explicit chain first, then a chain the
 * operator pinned for the profile ({@code modelpress.default-chain."<profile>"}), else the planner,
 * which tries the candidate chains and keeps the best that meets the profile's budget (with the
 * event's overrides) within {@code modelpress.planner.time-limit}.
 */
@ApplicationScoped
public class ChainChooser {

    private final CompressorConfig config;
    private final Map<String, String> pinned = new HashMap<>();

    @Inject
    public ChainChooser(CompressorConfig config) {
        this.config = config;
        // From an environment variable (MODELPRESS_DEFAULT_CHAIN__X86_VNNI_) the key arrives as
        // x86.vnni: profile ids never hold dots, so a dot can only have been a dash.
        config.defaultChain().forEach((profile, chain) -> pinned.put(profile.replace('.', '-'), chain));
    }

    /**
     * @param model the registered model
     * @param profile the profile as applied (the event's budget overrides included)
     * @throws JobFailure at stage PLAN when a named chain cannot be read
     */
    public PlanChoice choose(RegisteredModel model, HardwareProfile profile) {
        if (!model.chain().isEmpty()) {
            return PlanChoice.named(PlanChoice.EVENT, parse(model.chain(), "the event's chain"));
        }
        String configured = pinned.get(profile.id());
        if (configured != null && !configured.isBlank()) {
            return PlanChoice.named(PlanChoice.CONFIGURATION,
                    parse(split(configured), "modelpress.default-chain.\"" + profile.id() + "\""));
        }
        return PlanChoice.planned(Budget.of(profile).withTimeLimit(config.planner().timeLimit()));
    }

    /** Steps are separated by white space; a step's options never are. */
    static List<String> split(String chain) {
        return Arrays.stream(chain.trim().split("\\s+")).filter(step -> !step.isEmpty()).toList();
    }

    private static List<ChainStep> parse(List<String> steps, String where) {
        try {
            return steps.stream().map(ChainStep::parse).toList();
        } catch (EngineException e) {
            throw new JobFailure(Stage.PLAN, false, where + ": " + e.getMessage(), e);
        }
    }
}

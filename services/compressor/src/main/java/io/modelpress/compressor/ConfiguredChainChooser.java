package io.modelpress.compressor;

import io.modelpress.engine.ChainStep;
import io.modelpress.engine.EngineException;
import io.modelpress.spi.HardwareProfile;
import io.quarkus.arc.DefaultBean;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Arrays;
import java.util.List;

/**
 * Until the engine's planner lands: the event's explicit chain, else the configured chain of the
 * profile ({@code modelpress.default-chain."<profile>"}), else {@code modelpress.fallback-chain}.
 */
@ApplicationScoped
@DefaultBean
public class ConfiguredChainChooser implements ChainChooser {

    private final CompressorConfig config;

    @Inject
    public ConfiguredChainChooser(CompressorConfig config) {
        this.config = config;
    }

    @Override
    public List<ChainStep> choose(RegisteredModel model, HardwareProfile profile) {
        if (!model.chain().isEmpty()) {
            return parse(model.chain(), "the event's chain");
        }
        String configured = config.defaultChain().get(profile.id());
        if (configured != null) {
            return parse(split(configured), "modelpress.default-chain.\"" + profile.id() + "\"");
        }
        return parse(split(config.fallbackChain()), "modelpress.fallback-chain");
    }

    /** Steps are separated by white space; a step's options never are. */
    static List<String> split(String chain) {
        return Arrays.stream(chain.trim().split("\\s+")).filter(step -> !step.isEmpty()).toList();
    }

    private static List<ChainStep> parse(List<String> steps, String where) {
        if (steps.isEmpty()) {
            throw new JobFailure(Stage.PLAN, false, where + " names no plugin");
        }
        try {
            return steps.stream().map(ChainStep::parse).toList();
        } catch (EngineException e) {
            throw new JobFailure(Stage.PLAN, false, where + ": " + e.getMessage(), e);
        }
    }
}

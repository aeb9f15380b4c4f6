package io.modelpress.compressor;

import io.modelpress.engine.ChainStep;
import io.modelpress.spi.HardwareProfile;
import java.util.List;

/**
 * Chooses the chain of plugins to run for one model and profile. The one place where the automatic
 * planner takes over once the engine has it: provide another bean of this type.
 */
public interface ChainChooser {

    /**
     * @param model the registered model (its explicit chain, if any, comes first)
     * @param profile the profile as applied (budget overrides included)
     * @throws JobFailure at stage PLAN when no chain can be named
     */
    List<ChainStep> choose(RegisteredModel model, HardwareProfile profile);
}

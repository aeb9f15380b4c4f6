package io.modelpress.spi;

import io.modelpress.model.OnnxModel;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A compression technique. Implementations are found with {@link java.util.ServiceLoader}: list
 * the class in {@code META-INF/services/io.modelpress.spi.CompressionPlugin} of the plugin jar.
 * A plugin is stateless between calls and may be applied to several models at once.
 */
public interface CompressionPlugin {

    /** Stable lowercase id, e.g. {@code int8-dynamic}; what users name in chains. */
    String id();

    /** The plugin's own version, recorded in every report so that results can be reproduced. */
    String version();

    /** Always {@code return PluginSpi.VERSION;}: the compiler records the SPI version the plugin was built against. */
    int spiVersion();

    Technique technique();

    /** One line for people. */
    String description();

    /** The options it takes; none by default. */
    default List<OptionSpec> options() {
        return List.of();
    }

    /**
     * Precisions its output computes in and the target must therefore run: {@code int8} for an
     * int8 quantizer, none for a technique that keeps precision (pruning, graph clean-up).
     */
    default Set<Precision> requiredPrecisions() {
        return Set.of();
    }

    /** Whether its output suits the target; by default, when the target runs every required precision. */
    default boolean serves(HardwareProfile profile) {
        return profile.precisions().containsAll(requiredPrecisions());
    }

    /**
     * Why it cannot work on {@code model}, when that shows in the graph without running it (an
     * operator it cannot handle, inputs or outputs of another kind): the planner then leaves its chains
     * out with this reason instead of spending a candidate on a step that would fail. Empty by default:
     * nothing known before {@link #apply}, which still refuses with its reason.
     */
    default Optional<String> unsuitable(OnnxModel model) {
        return Optional.empty();
    }

    /**
     * Compresses {@code model}, returning a new model. Must not change {@code model}. Throws
     * {@link PluginException} with a reason a user can act on when it cannot do its work.
     */
    PluginResult apply(OnnxModel model, PluginOptions options, PluginContext context) throws PluginException;
}

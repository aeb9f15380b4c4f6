package io.modelpress.plugins.quantization;

import io.modelpress.model.Weight;
import io.modelpress.spi.PluginException;
import java.util.List;

/** How one plugin writes the weights it was given; everything else (selection, reports) is shared. */
interface Scheme {

    /**
     * Writes {@code full} in the plugin's own form and {@code weightOnly} as int8 weights read in
     * float (the middle step of mixed precision: the weight's bytes shrink, its reader computes
     * in float as before).
     */
    void write(Writer writer, List<Weight> full, List<Weight> weightOnly) throws PluginException;

    /**
     * Whether the plugin's own form of {@code weight} computes differently from int8 weight-only
     * (integer kernels, 4-bit blocks). Only such weights have a middle step in mixed precision.
     */
    boolean integerCompute(Writer writer, Weight weight);
}

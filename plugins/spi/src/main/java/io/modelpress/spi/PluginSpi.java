package io.modelpress.spi;

/**
 * Versions of this contract. A plugin returns {@link #VERSION} from
 * {@link CompressionPlugin#spiVersion()}; the compiler copies the constant into the plugin's class,
 * so the host learns which version the plugin was built against and refuses one it cannot run.
 * The interface grows by default methods, so plugins built for an older version keep working; each
 * addition raises {@link #VERSION}, so that a plugin which calls it is refused by name by a host too
 * old to have it, instead of failing in the middle of a job.
 *
 * <ul>
 *   <li>1: the first contract.</li>
 *   <li>2: {@link PluginContext#original()}, the model a chain started from.</li>
 * </ul>
 */
public final class PluginSpi {

    /** The version of this SPI. */
    public static final int VERSION = 2;

    /** The oldest version a host of this SPI still runs. */
    public static final int OLDEST_SUPPORTED = 1;

    /** The packages a plugin may see from the host; everything else comes from the plugin's own jar. */
    public static final java.util.List<String> EXPORTED_PACKAGES = java.util.List.of(
            "io.modelpress.spi.", "io.modelpress.model.", "ai.onnx.proto.", "com.google.protobuf.");

    private PluginSpi() {
    }

    public static boolean supports(int version) {
        return version >= OLDEST_SUPPORTED && version <= VERSION;
    }
}

package io.modelpress.engine.plan;

import io.modelpress.engine.ChainStep;
import io.modelpress.engine.plugin.LoadedPlugin;
import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.OptionException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.Precision;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The chains worth trying, as data: each a sequence of plugin steps with the reason it may suit a
 * target. A chain is a candidate for a profile when every plugin is installed, serves the profile
 * and accepts the options written here, and when the data it needs is at hand. The lossless
 * clean-up goes first wherever it is installed.
 */
public final class Candidates {

    private static final String CLEANUP = "graph-cleanup";

    /**
     * A chain template: steps as written on the command line, and why it is worth a try.
     *
     * @param integerTargetsOnly offered only to profiles that run int8: its result saves download size on
     *     integer hardware but computes in fp32, which a half-precision GPU gains nothing from
     */
    record Template(List<String> steps, String rationale, boolean needsCalibration, boolean integerTargetsOnly) {
    }

    /**
     * The search order, fixed and documented (README): the planner tries candidates in this order and
     * a time limit cuts it from the end, so what a cut leaves out is always the same tail.
     */
    static final List<Template> CATALOGUE = List.of(
            template("lossless clean-up only: the baseline every other candidate must beat", false, CLEANUP),
            template("int8 weights, activations quantized at run time: about 4x smaller, fast on int8 hardware", false,
                    "int8-dynamic"),
            template("int8 weights and activations calibrated on the data: fastest int8 form for CNNs", true,
                    "int8-static"),
            template("int8 that keeps a cosine of 0.995 on the calibration data at the least run-time cost: activation "
                    + "outliers smoothed into the weights where needed, strongest first, then the layers that lose most "
                    + "kept in higher precision if that is not enough", true, "int8-dynamic:smooth=0.7,fidelity-target=0.995"),
            template("int8 with activation outliers smoothed into the weights from the calibration data: transformers "
                    + "keep more fidelity with every MatMul in integer form", true, "int8-dynamic:smooth=0.7"),
            // The embeddings stay unfused: EmbedLayerNormalization takes float tables, so ONNX Runtime would fold the
            // int8 word table back to fp32 at load (MiniLM's session took more memory than the fp32 model's), while
            // plain Gathers read the int8 table directly; the fusion gained no speed there (under 1% of the run time).
            // Smoothed to a cosine target like the unfused chain above: smoothing every activation costs the worst
            // tokens more than the floors allow on real sentences (MiniLM: worst 0.83 against 0.90).
            template("transformer encoders: attention, residual layer norms and GELUs fused into ONNX Runtime's "
                    + "contrib operators, then int8 smoothed to a cosine of 0.995: attention becomes one int8 QKV "
                    + "projection (QAttention), the embedding tables stay int8 in memory; on the providers that run the "
                    + "fused operators (CPU, CUDA)", true, "transformer-fusion:embed-layer-norm=false",
                    "int8-dynamic:smooth=0.7,fidelity-target=0.995"),
            template("4-bit weights in blocks: about 7x smaller; accuracy may suffer", false, "int4-block"),
            template("half precision: 2x smaller, fast where fp16 runs natively", false, "fp16"),
            template("a quarter of the neurons and channels removed, then int8: smaller than int8 alone", false,
                    "structured-pruning:ratio=0.25", "int8-dynamic"),
            template("half of the neurons and channels removed, then int8: for tight size budgets", false,
                    "structured-pruning:ratio=0.5", "int8-dynamic"),
            template("low-rank factors keeping 90% of the energy, then int8", false, "low-rank:energy=0.9", "int8-dynamic"),
            template("a quarter of the neurons and channels removed, then half precision", false,
                    "structured-pruning:ratio=0.25", "fp16"),
            new Template(List.of("magnitude-pruning:sparsity=0.6", "weight-sharing:bits=4", "package"),
                    "Deep Compression: pruned, weight-shared (4-bit codebook indices) and packaged; smallest download",
                    false, true),
            // Retraining on the request's data (fine-tune refuses, naming it, a model with an operator it cannot
            // train); each training step stops at its own time limit so the planner's limit still holds. Fine-tuning
            // distils from the original (its soft targets are the outputs of the model the chain started from), and
            // alpha 0.9 gives labels, when given, a tenth of the loss: the fidelity floors judge the scores against
            // the original's, which labels alone do not teach.
            new Template(List.of("magnitude-pruning:sparsity=0.9",
                    "fine-tune:epochs=10,learning-rate=0.001,time-limit=120,alpha=0.9", "weight-sharing:bits=4",
                    "fine-tune:epochs=4,learning-rate=0.00001,time-limit=60,alpha=0.9", "package"),
                    "Deep Compression with retraining: pruned to 90%, fine-tuned on the data, weight-shared,"
                            + " codebooks fine-tuned, packaged; a file the size of Deep Compression's with more zeros,"
                            + " so a smaller download, where training recovers what the deeper cut lost",
                    true, true),
            // The sparsity rises inside one training run under one learning-rate schedule, which beat cuts with a
            // fine-tune after each at the same epochs (bench/retraining.md); at most three minutes of training.
            // It distils from the original as the chain above does, for the same reason.
            template("gradual magnitude pruning to 80% while fine-tuning on the data (100 small cuts along a cubic"
                    + " schedule, then training at 80%), then packaged: keeps the accuracy an untrained cut to the same"
                    + " sparsity loses", true,
                    "fine-tune:epochs=9,learning-rate=0.001,time-limit=180,prune-to=0.8,alpha=0.9",
                    "package"));

    private Candidates() {
    }

    /** A template that is no candidate here, and why. */
    record Excluded(List<ChainStep> chain, String rationale, String reason) {
    }

    /** The result of matching the catalogue against the installed plugins, the profile and the data. */
    record Matched(List<Template> templates, List<List<ChainStep>> chains, List<Excluded> excluded) {
    }

    static Matched match(PluginRegistry plugins, HardwareProfile profile, boolean hasCalibration, OnnxModel model) {
        return match(plugins, profile, hasCalibration, model, CATALOGUE);
    }

    static Matched match(PluginRegistry plugins, HardwareProfile profile, boolean hasCalibration, OnnxModel model,
            List<Template> catalogue) {
        boolean cleanup = plugins.find(CLEANUP).isPresent();
        List<Template> templates = new ArrayList<>();
        List<List<ChainStep>> chains = new ArrayList<>();
        List<Excluded> excluded = new ArrayList<>();
        for (Template template : catalogue) {
            List<ChainStep> chain = new ArrayList<>();
            if (cleanup && !template.steps().equals(List.of(CLEANUP))) {
                chain.add(ChainStep.parse(CLEANUP));
            }
            template.steps().forEach(step -> chain.add(ChainStep.parse(step)));
            Optional<String> reason = template.needsCalibration() && !hasCalibration ? Optional.of("needs calibration data")
                    : template.integerTargetsOnly() && !profile.runs(Precision.INT8)
                    ? Optional.of("for integer targets: its layers compute in fp32 from a codebook, and profile '"
                            + profile.id() + "' does not run int8")
                    : unusable(chain, plugins, profile, model);
            if (reason.isPresent()) {
                excluded.add(new Excluded(chain, template.rationale(), reason.get()));
            } else {
                templates.add(template);
                chains.add(List.copyOf(chain));
            }
        }
        return new Matched(templates, chains, excluded);
    }

    private static Optional<String> unusable(List<ChainStep> chain, PluginRegistry plugins, HardwareProfile profile,
            OnnxModel model) {
        for (ChainStep step : chain) {
            Optional<LoadedPlugin> plugin = plugins.find(step.pluginId());
            if (plugin.isEmpty()) {
                return Optional.of("plugin '" + step.pluginId() + "' is not installed");
            }
            if (!plugin.get().plugin().serves(profile)) {
                return Optional.of("plugin '" + step.pluginId() + "' does not serve profile '" + profile.id() + "'");
            }
            try {
                PluginOptions.resolve(plugin.get().plugin().options(), step.options());
            } catch (OptionException e) {
                return Optional.of("plugin '" + step.pluginId() + "' does not take these options: " + e.getMessage());
            }
        }
        // Only then the model, so that a chain the profile cannot run says so whatever the model. Each plugin
        // judges the original: the steps before it keep the structure it looks for.
        for (ChainStep step : chain) {
            Optional<String> unsuitable = unsuitable(plugins.find(step.pluginId()).orElseThrow(), model);
            if (unsuitable.isPresent()) {
                return Optional.of("plugin '" + step.pluginId() + "' cannot work on this model: " + unsuitable.get());
            }
        }
        return Optional.empty();
    }

    /** A plugin that fails to judge is not given the model either: its step would fail the same way. */
    private static Optional<String> unsuitable(LoadedPlugin plugin, OnnxModel model) {
        try {
            return plugin.plugin().unsuitable(model);
        } catch (RuntimeException | LinkageError e) {
            return Optional.of("it failed to judge the model (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
        }
    }

    private static Template template(String rationale, boolean needsCalibration, String... steps) {
        return new Template(Arrays.asList(steps), rationale, needsCalibration, false);
    }
}

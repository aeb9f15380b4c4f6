package io.modelpress.plugins.fusion;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.ValueNames;
import io.modelpress.spi.CompressionPlugin;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.OptionSpec;
import io.modelpress.spi.PluginContext;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.PluginSpi;
import io.modelpress.spi.Technique;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Rewrites the subgraphs a BERT-family encoder export spells out op by op into ONNX Runtime's
 * fused contrib operators: self-attention into {@code Attention} (Q, K and V projections packed
 * into one weight), residual + layer norm into {@code SkipLayerNormalization}, bias + erf GELU into
 * {@code BiasGelu}, the word + position (+ token type) embedding lookups and their layer norm into
 * {@code EmbedLayerNormalization} where they fit it exactly. The function computed is the same (to
 * float rounding); batch and sequence axes stay dynamic. Fused, the graph runs fewer, larger kernels, and a quantizer that follows can turn
 * attention into one integer projection ({@code QAttention}) instead of three.
 *
 * <p>The fused operators exist in ONNX Runtime's CPU and CUDA execution providers only, so the
 * step serves profiles on those providers.
 */
public final class TransformerFusionPlugin implements CompressionPlugin {

    static final String ATTENTION = "attention";
    static final String SKIP_LAYER_NORM = "skip-layer-norm";
    static final String GELU = "gelu";
    static final String EMBED_LAYER_NORM = "embed-layer-norm";

    /** Execution providers that run every operator this step writes. */
    public static final Set<String> EXECUTION_PROVIDERS = Set.of("cpu", "cuda");

    /** The operators it may write, as a profile's operator list names them. */
    static final Set<String> OPERATORS = Set.of("com.microsoft.Attention", "com.microsoft.SkipLayerNormalization",
            "com.microsoft.BiasGelu", "com.microsoft.Gelu", "com.microsoft.EmbedLayerNormalization");

    @Override
    public String id() {
        return "transformer-fusion";
    }

    @Override
    public String version() {
        return "1.1.0"; // 1.1: the embedding layer into EmbedLayerNormalization
    }

    @Override
    public int spiVersion() {
        return PluginSpi.VERSION;
    }

    @Override
    public Technique technique() {
        return Technique.GRAPH_OPTIMIZATION;
    }

    @Override
    public String description() {
        return "Fuses transformer encoder attention, residual layer norms, GELUs and the embedding layer into ONNX Runtime "
                + "contrib operators";
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(
                OptionSpec.flag(ATTENTION, true, "fuse self-attention into Attention with packed QKV weights"),
                OptionSpec.flag(SKIP_LAYER_NORM, true,
                        "fuse residual add + layer norm into SkipLayerNormalization (layer norm alone into "
                                + "LayerNormalization from opset 17)"),
                OptionSpec.flag(GELU, true, "fuse bias + erf GELU into BiasGelu (or Gelu)"),
                OptionSpec.flag(EMBED_LAYER_NORM, true,
                        "fuse the word + position (+ token type) embedding lookups and their layer norm into "
                                + "EmbedLayerNormalization where position ids are 0..S-1 and the tables are constants"));
    }

    /** Only where the execution provider runs the fused operators, and the profile's operator list (if any) has them. */
    @Override
    public boolean serves(HardwareProfile profile) {
        return EXECUTION_PROVIDERS.contains(profile.executionProvider().toLowerCase(Locale.ROOT))
                && profile.operators().map(ops -> ops.containsAll(OPERATORS)).orElse(true);
    }

    /** A model without the self-attention this step fuses gains nothing from it: the planner need not try it. */
    @Override
    public Optional<String> unsuitable(OnnxModel model) {
        int attention = new Fusions(ValueNames.of(model.proto())).attention(new GraphView(model.proto().getGraph()),
                new Rewrite());
        return attention > 0 ? Optional.empty()
                : Optional.of("no self-attention subgraph of the BERT-style pattern this step fuses");
    }

    @Override
    public PluginResult apply(OnnxModel model, PluginOptions options, PluginContext context) {
        ModelProto proto = model.proto();
        long opset = proto.getOpsetImportList().stream().filter(o -> o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx"))
                .mapToLong(OperatorSetIdProto::getVersion).max().orElse(0);
        Fusions fusions = new Fusions(ValueNames.of(proto));
        GraphProto graph = proto.getGraph();
        int nodesBefore = graph.getNodeCount();
        int attention = 0;
        int gelu = 0;
        Fusions.NormCounts norms = new Fusions.NormCounts(0, 0);
        Fusions.EmbedCounts embeddings = new Fusions.EmbedCounts(0, Map.of());
        if (options.flag(ATTENTION)) {
            context.progress(0.1, "fusing self-attention");
            Rewrite rewrite = new Rewrite();
            attention = fusions.attention(new GraphView(graph), rewrite);
            graph = rewrite.applyTo(graph);
        }
        context.checkCancelled();
        if (options.flag(GELU)) {
            context.progress(0.5, "fusing GELU activations");
            Rewrite rewrite = new Rewrite();
            gelu = fusions.gelu(new GraphView(graph), rewrite);
            graph = rewrite.applyTo(graph);
        }
        context.checkCancelled();
        if (options.flag(EMBED_LAYER_NORM)) {
            // ahead of the layer-norm pass, which would make the embedding sum's norm a SkipLayerNormalization
            context.progress(0.6, "fusing the embedding layer");
            Rewrite rewrite = new Rewrite();
            embeddings = fusions.embedLayerNorm(new GraphView(graph), rewrite);
            graph = rewrite.applyTo(graph);
        }
        context.checkCancelled();
        if (options.flag(SKIP_LAYER_NORM)) {
            context.progress(0.7, "fusing layer normalisations");
            Rewrite rewrite = new Rewrite();
            norms = fusions.layerNorm(new GraphView(graph), rewrite, opset);
            graph = rewrite.applyTo(graph);
        }
        PluginResult.Builder result;
        if (attention + gelu + embeddings.fused() + norms.skip() + norms.plain() == 0) {
            graph = proto.getGraph();
            result = PluginResult.builder(model)
                    .change("nothing fused: no BERT-style attention, GELU, embedding or layer norm subgraph found");
        } else {
            ModelProto.Builder fused = proto.toBuilder().setGraph(graph);
            if (fused.getOpsetImportList().stream().noneMatch(o -> o.getDomain().equals(Fusions.MS_DOMAIN))) {
                fused.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(Fusions.MS_DOMAIN).setVersion(1));
            }
            result = PluginResult.builder(model.withProto(fused.build()));
            report(result, attention, "self-attention subgraphs into Attention");
            report(result, gelu, "GELU subgraphs into BiasGelu/Gelu");
            report(result, embeddings.fused(), "embedding lookups + layer norm into EmbedLayerNormalization");
            report(result, norms.skip(), "residual layer norms into SkipLayerNormalization");
            report(result, norms.plain(), "layer norms into LayerNormalization");
        }
        leftAsTheyAre(result, graph, "Softmax", "not in the self-attention pattern this step fuses");
        leftAsTheyAre(result, graph, "Erf", "not in the erf GELU pattern this step fuses");
        embeddings.leftAsTheyAre().forEach(result::skipped);
        return result.figure("attention-fused", attention)
                .figure("gelu-fused", gelu)
                .figure("embed-layer-norm-fused", embeddings.fused())
                .figure("skip-layer-norm-fused", norms.skip())
                .figure("layer-norm-fused", norms.plain())
                .figure("nodes-before", nodesBefore)
                .figure("nodes-after", graph.getNodeCount())
                .build();
    }

    /** Names the nodes of {@code opType} still in the graph, so that a partly fused model says what was left. */
    private static void leftAsTheyAre(PluginResult.Builder result, GraphProto graph, String opType, String reason) {
        graph.getNodeList().stream().filter(node -> node.getOpType().equals(opType) && node.getDomain().isEmpty())
                .forEach(node -> result.skipped(opType + " '" + node.getName() + "'", reason));
    }

    private static void report(PluginResult.Builder result, int count, String what) {
        if (count > 0) {
            result.change("fused " + count + " " + what);
        }
    }
}

package io.modelpress.engine.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.ChainStep;
import io.modelpress.engine.TestProfiles;
import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.testkit.TestModels;
import io.modelpress.testkit.TinyBert;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The fused-encoder chain: offered for transformer encoders on providers that run the fused operators only. */
class TransformerCandidatesTest {

    private final PluginRegistry plugins = PluginRegistry.discover(getClass().getClassLoader());

    @Test
    void encodersOnACpuProfileGetTheFusionAheadOfQuantization() {
        Candidates.Matched matched = Candidates.match(plugins, TestProfiles.cpu(), true, TinyBert.model(1, 16, 2, 1));
        Optional<List<ChainStep>> fused = fusedChain(matched.chains());
        assertTrue(fused.isPresent(), matched.excluded().toString());
        List<String> ids = fused.get().stream().map(ChainStep::pluginId).toList();
        assertEquals(List.of("graph-cleanup", "transformer-fusion", "int8-dynamic"), ids);
        // an EmbedLayerNormalization's float tables would undo the int8 embedding table's memory saving
        assertEquals("false", fused.get().get(1).options().get("embed-layer-norm"), fused.get().toString());
    }

    @Test
    void otherModelsAndOtherProvidersDoNotGetIt() {
        Candidates.Matched mlp = Candidates.match(plugins, TestProfiles.cpu(), true, TestModels.mlp(8, 16, 4, 1));
        assertTrue(fusedChain(mlp.chains()).isEmpty());
        assertTrue(mlp.excluded().stream().anyMatch(e -> e.reason().equals("plugin 'transformer-fusion' cannot work on"
                + " this model: no self-attention subgraph of the BERT-style pattern this step fuses")), mlp.excluded().toString());

        HardwareProfile cpu = TestProfiles.cpu();
        HardwareProfile wasm = new HardwareProfile("test-wasm", "a browser", cpu.precisions(), cpu.quantizedFormat(), "wasm",
                cpu.memoryBudgetBytes(), cpu.sizeBudgetBytes(), cpu.latencyBudgetMillis(), cpu.maxAccuracyDrop(),
                cpu.batchSize(), cpu.threads());
        Candidates.Matched browser = Candidates.match(plugins, wasm, true, TinyBert.model(1, 16, 2, 1));
        assertTrue(fusedChain(browser.chains()).isEmpty());
        assertTrue(browser.excluded().stream().anyMatch(
                e -> e.reason().equals("plugin 'transformer-fusion' does not serve profile 'test-wasm'")), browser.excluded().toString());
    }

    private static Optional<List<ChainStep>> fusedChain(List<List<ChainStep>> chains) {
        return chains.stream().filter(chain -> chain.stream().anyMatch(step -> step.pluginId().equals("transformer-fusion")))
                .findFirst();
    }
}

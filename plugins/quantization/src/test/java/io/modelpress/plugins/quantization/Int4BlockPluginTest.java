package io.modelpress.plugins.quantization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.model.OnnxModel;
import io.modelpress.spi.OptionException;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.QuantizedFormat;
import io.modelpress.testkit.TestModels;
import java.util.Map;
import org.junit.jupiter.api.Test;

class Int4BlockPluginTest {

    private final Int4BlockPlugin plugin = new Int4BlockPlugin();

    private PluginResult apply(OnnxModel model, Map<String, String> options) throws PluginException {
        return plugin.apply(model, PluginOptions.resolve(plugin.options(), options), Models.context(QuantizedFormat.OPERATOR));
    }

    @Test
    void matMulAndGemmWeightsBecomeFourBitBlocksForEveryBlockSize() throws Exception {
        OnnxModel model = TestModels.mlp(128, 64, 32, 31);
        for (String block : new String[] {"32", "64", "128"}) {
            for (String symmetric : new String[] {"true", "false"}) {
                PluginResult result = apply(model, Map.of("block-size", block, "symmetric", symmetric));
                assertEquals(2, Models.count(result.model(), "MatMulNBits"), block + " " + result.changes());
                assertTrue(result.figures().get("size-ratio") > 4, result.figures().toString());
                Models.assertClose(model, result.model(), Models.samples("x", 3, 32, 2, 128), 0.98);
            }
        }
    }

    @Test
    void weightsInsideSubgraphsAndConstantNodesAreReachedToo() throws Exception {
        OnnxModel branching = TestModels.withIfSubgraph(64, 32, 33);
        PluginResult result = apply(branching, Map.of());
        assertEquals(2, Models.count(result.model(), "MatMulNBits"), "the outer weight read in a branch, and the branch's own");
        OnnxModel constants = TestModels.mlpWithConstantNodes(64, 48, 32, 34);
        PluginResult constantResult = apply(constants, Map.of());
        assertEquals(2, Models.count(constantResult.model(), "MatMulNBits"));
        Models.assertClose(constants, constantResult.model(), Models.samples("x", 3, 35, 2, 64), 0.98);
    }

    @Test
    void badOptionsAndQuantizedModelsAreRefusedOrLeft() throws Exception {
        OptionException block = assertThrows(OptionException.class,
                () -> PluginOptions.resolve(plugin.options(), Map.of("block-size", "48")));
        assertTrue(block.getMessage().contains("block-size"), block.getMessage());
        OnnxModel once = apply(TestModels.mlp(64, 48, 32, 36), Map.of()).model();
        PluginResult twice = apply(once, Map.of());
        assertSame(once, twice.model());
        assertTrue(twice.changes().get(0).contains("MatMulNBits"), twice.changes().toString());
    }
}

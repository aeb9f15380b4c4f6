package io.modelpress.plugins.quantization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.model.OnnxModel;
import io.modelpress.plugins.fusion.TransformerFusionPlugin;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.QuantizedFormat;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.TinyBert;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The quantizer on an encoder the transformer-fusion step has fused: attention becomes QAttention. */
class FusedEncoderQuantizationTest {

    private static final int LAYERS = 2;

    @Test
    void fusedAttentionBecomesQAttentionAndTheFfnIntegerMatMuls() throws Exception {
        OnnxModel original = TinyBert.model(LAYERS, 64, 4, 11);
        TransformerFusionPlugin fusion = new TransformerFusionPlugin();
        OnnxModel fused = fusion.apply(original, PluginOptions.defaults(fusion.options()),
                Models.context(QuantizedFormat.OPERATOR)).model();
        Int8DynamicPlugin int8 = new Int8DynamicPlugin();
        PluginResult result = int8.apply(fused, PluginOptions.resolve(int8.options(), Map.of("format", "operator")),
                Models.context(QuantizedFormat.OPERATOR));
        OnnxModel quantized = result.model();

        assertEquals(List.of("com.microsoft", "com.microsoft"), Models.domainsOf(quantized, "QAttention"));
        assertEquals(0, Models.count(quantized, "Attention"), "every attention runs its projection in int8");
        assertEquals(3 * LAYERS, Models.count(quantized, "MatMulInteger"), "output, FFN up and FFN down per layer");
        assertEquals(2 * LAYERS + 1, Models.count(quantized, "SkipLayerNormalization"), "the fusions stay");
        assertEquals(LAYERS, Models.count(quantized, "BiasGelu"));
        assertTrue(result.figures().get("size-ratio") > 2.5, result.figures().toString());

        SplittableRandom random = new SplittableRandom(3);
        List<Map<String, TensorData>> samples = new ArrayList<>();
        for (int[] size : new int[][] {{1, 5}, {2, 17}, {4, 40}}) {
            samples.add(TinyBert.inputs(random, size[0], size[1]));
        }
        // int8 activations and weights against the unfused fp32 original, at several batch and sequence lengths
        Models.assertClose(original, quantized, samples, 0.99);
    }

    @Test
    void smoothingFoldsIntoTheFusedAttentionsValueColumns() throws Exception {
        OnnxModel original = TinyBert.model(LAYERS, 64, 4, 12);
        TransformerFusionPlugin fusion = new TransformerFusionPlugin();
        OnnxModel fused = fusion.apply(original, PluginOptions.defaults(fusion.options()),
                Models.context(QuantizedFormat.OPERATOR)).model();
        SplittableRandom random = new SplittableRandom(5);
        List<Map<String, TensorData>> calibration = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            calibration.add(TinyBert.inputs(random, 2, 12));
        }
        Int8DynamicPlugin int8 = new Int8DynamicPlugin();
        PluginResult result = int8.apply(fused, PluginOptions.resolve(int8.options(),
                Map.of("format", "operator", "smooth", "0.7", "smooth-outlier-ratio", "1")),
                Models.context(QuantizedFormat.OPERATOR).withCalibration(io.modelpress.spi.CalibrationData.of(calibration)));

        String line = result.changes().stream().filter(c -> c.contains("smoothed")).findFirst().orElseThrow();
        // per layer: QKV input and FFN-up input (layer norm outputs the residual also reads: a Mul), attention output
        // (folded into the value columns of the packed weight) and FFN-down input (a GELU's output: a Mul)
        assertTrue(line.contains("in the node making it (" + LAYERS + ")"), line);
        assertEquals(LAYERS, Models.count(result.model(), "QAttention"));
        List<Map<String, TensorData>> held = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            held.add(TinyBert.inputs(random, 3, 20));
        }
        Models.assertClose(original, result.model(), held, 0.99);
    }
}

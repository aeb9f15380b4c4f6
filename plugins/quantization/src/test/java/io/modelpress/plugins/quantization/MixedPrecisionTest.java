package io.modelpress.plugins.quantization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.modelpress.model.DataType;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.Tensors;
import io.modelpress.model.Weight;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.QuantizedFormat;
import io.modelpress.testkit.PluginTestContext;
import io.modelpress.testkit.TestModels;
import java.util.Map;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;

/** Mixed precision: weights kept float by node name or operator type, and the automatic mode. */
class MixedPrecisionTest {

    private final Int8DynamicPlugin plugin = new Int8DynamicPlugin();

    private PluginResult apply(OnnxModel model, Map<String, String> options, CalibrationData data) throws PluginException {
        return plugin.apply(model, PluginOptions.resolve(plugin.options(), options),
                data == null ? Models.context(QuantizedFormat.OPERATOR) : Models.context(QuantizedFormat.OPERATOR).withCalibration(data));
    }

    private static DataType typeOf(OnnxModel model, String name) {
        return model.weights().all().stream().filter(w -> w.name().equals(name)).map(Weight::type).findFirst()
                .orElse(DataType.UNDEFINED);
    }

    @Test
    void excludedNodesAndOperatorTypesKeepTheirWeightsFloatAndSaySo() throws Exception {
        OnnxModel model = TestModels.mlp(64, 48, 32, 41);
        PluginResult byName = apply(model, Map.of("exclude-nodes", "fc2"), null);
        assertEquals(DataType.FLOAT, typeOf(byName.model(), "w2"));
        assertEquals(1, Models.count(byName.model(), "MatMulInteger"), "the Gemm fc1 only");
        assertTrue(byName.skipped().stream().anyMatch(s -> s.part().contains("'w2'") && s.reason().contains("'fc2'")),
                byName.skipped().toString());

        PluginResult byOp = apply(model, Map.of("exclude-ops", "Gemm"), null);
        assertEquals(DataType.FLOAT, typeOf(byOp.model(), "w1"));
        assertEquals(1, Models.count(byOp.model(), "Gemm"));
        assertTrue(byOp.skipped().stream().anyMatch(s -> s.part().contains("'w1'") && s.reason().contains("Gemm")),
                byOp.skipped().toString());
        Models.assertClose(model, byOp.model(), Models.samples("x", 3, 42, 2, 64), 0.999);
    }

    @Test
    void theAutomaticModeNeedsCalibrationData() {
        PluginException error = assertThrows(PluginException.class,
                () -> apply(TestModels.mlp(64, 48, 32, 43), Map.of("fidelity-target", "0.99"), null));
        assertTrue(error.getMessage().contains("fidelity-target") && error.getMessage().contains("calibration"),
                error.getMessage());
    }

    /** The mlp with one large value in every column of w1: per-channel int8 then rounds the rest of w1 coarsely. */
    private static OnnxModel withSensitiveFirstLayer() {
        OnnxModel model = TestModels.mlp(64, 48, 32, 44);
        GraphProto graph = model.proto().getGraph();
        TensorProto w1 = graph.getInitializer(0);
        float[] values = Tensors.toFloats(w1);
        for (int column = 0; column < 48; column++) {
            values[(column % 64) * 48 + column] = 40f;
        }
        TensorProto spiked = Tensors.ofFloats("w1", Tensors.dims(w1), values);
        return model.withProto(model.proto().toBuilder().setGraph(graph.toBuilder().setInitializer(0, spiked)).build());
    }

    @Test
    void theAutomaticModeKeepsTheMostSensitiveLayerFloatUntilTheTargetIsMet() throws Exception {
        OnnxModel model = withSensitiveFirstLayer();
        CalibrationData calibration = CalibrationData.of(Models.samples("x", 8, 45, 4, 64));
        double everywhere = Models.assertClose(model, apply(model, Map.of(), null).model(),
                Models.samples("x", 4, 46, 4, 64), 0).get(0).meanCosine();

        PluginResult result = apply(model, Map.of("fidelity-target", "0.9999"), calibration);
        assertTrue(result.figures().get("fidelity-all-quantized") < 0.9999, result.figures().toString());
        assertTrue(result.figures().get("fidelity") >= 0.9999, result.figures().toString());
        assertEquals(DataType.FLOAT16, typeOf(result.model(), "w1_fp16"),
                "the layer that costs most computes in float, from fp16 storage");
        assertTrue(result.model().proto().getGraph().getNodeList().stream().anyMatch(node -> node.getOpType().equals("Cast")
                && node.getInput(0).equals("w1_fp16") && node.getOutput(0).equals("w1")), "read through a Cast to float as w1");
        assertEquals(1, Models.count(result.model(), "MatMulInteger"), "the other keeps integer compute");
        assertTrue(result.skipped().stream().anyMatch(s -> s.part().contains("'w1'") && s.reason().contains("automatic mode")),
                result.skipped().toString());
        double mixed = Models.assertClose(model, result.model(), Models.samples("x", 4, 46, 4, 64), 0.9995)
                .get(0).meanCosine();
        assertTrue(mixed > everywhere, mixed + " against " + everywhere + " with every layer int8");

        PluginResult loose = apply(model, Map.of("fidelity-target", "0.5"), calibration);
        assertEquals(2, Models.count(loose.model(), "MatMulInteger"), "a target met already changes nothing");
    }

    @Test
    void theAutomaticModeReportsProgressAndStopsWhenCancelled() throws Exception {
        OnnxModel model = withSensitiveFirstLayer();
        CalibrationData calibration = CalibrationData.of(Models.samples("x", 4, 47, 4, 64));
        PluginTestContext context = Models.context(QuantizedFormat.OPERATOR).withCalibration(calibration);
        plugin.apply(model, PluginOptions.resolve(plugin.options(), Map.of("fidelity-target", "0.9999")), context);
        assertTrue(context.progressReports().stream().anyMatch(p -> p.message().startsWith("sensitivity")),
                context.progressReports().toString());

        PluginTestContext cancelled = Models.context(QuantizedFormat.OPERATOR).withCalibration(calibration);
        cancelled.cancel();
        assertThrows(CancellationException.class, () -> plugin.apply(model,
                PluginOptions.resolve(plugin.options(), Map.of("fidelity-target", "0.9999")), cancelled));
    }
}

package io.modelpress.plugins.quantization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.OptionException;
import io.modelpress.spi.PluginException;
import io.modelpress.spi.PluginOptions;
import io.modelpress.spi.PluginResult;
import io.modelpress.spi.QuantizedFormat;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.TestModels;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class Int8StaticPluginTest {

    private final Int8StaticPlugin plugin = new Int8StaticPlugin();
    private final OnnxModel cnn = TestModels.cnn(48, 10, 21);

    private PluginResult apply(OnnxModel model, CalibrationData data, Map<String, String> options) throws PluginException {
        return plugin.apply(model, PluginOptions.resolve(plugin.options(), options),
                Models.context(QuantizedFormat.QDQ).withCalibration(data));
    }

    private static CalibrationData images(int count, long seed, long... shape) {
        return CalibrationData.of(Models.samples("x", count, seed, shape));
    }

    @Test
    void convAndGemmGetInt8ActivationsFromEachCalibrationMethod() throws Exception {
        for (String method : List.of("minmax", "percentile", "entropy")) {
            PluginResult result = apply(cnn, images(8, 1, 2, 3, 16, 16), Map.of("calibration", method));
            OnnxModel quantized = result.model();
            assertEquals(2, Models.count(quantized, "QuantizeLinear"), method + ": the Conv's input and output");
            assertTrue(result.changes().stream().anyMatch(c -> c.contains("Conv nodes with int8 activations")),
                    result.changes().toString());
            Models.assertClose(cnn, quantized, Models.samples("x", 4, 2, 2, 3, 16, 16), 0.995);
        }
    }

    @Test
    void withoutCalibrationDataItSaysSoAndDoesNotGuess() {
        PluginException error = assertThrows(PluginException.class, () -> plugin.apply(cnn,
                PluginOptions.resolve(plugin.options(), Map.of()), Models.context(QuantizedFormat.QDQ)));
        assertTrue(error.getMessage().contains("needs calibration data"), error.getMessage());
    }

    @Test
    void calibrationThatDoesNotFitTheInputsIsRefusedNamingTheInput() {
        PluginException shape = assertThrows(PluginException.class, () -> apply(cnn, images(2, 3, 1, 3, 8, 8), Map.of()));
        assertTrue(shape.getMessage().contains("'x'") && shape.getMessage().contains("[1,3,8,8]")
                && shape.getMessage().contains("[batch,3,16,16]"), shape.getMessage());

        CalibrationData misnamed = CalibrationData.of(Models.samples("image", 2, 3, 1, 3, 16, 16));
        PluginException name = assertThrows(PluginException.class, () -> apply(cnn, misnamed, Map.of()));
        assertTrue(name.getMessage().contains("'x'") && name.getMessage().contains("[image]"), name.getMessage());

        CalibrationData integers = CalibrationData.of(List.of(Map.of("x",
                TensorData.ofLongs(new long[] {1, 3, 16, 16}, new long[3 * 16 * 16]))));
        PluginException type = assertThrows(PluginException.class, () -> apply(cnn, integers, Map.of()));
        assertTrue(type.getMessage().contains("int64") || type.getMessage().contains("INT64"), type.getMessage());
    }

    @Test
    void optionsOutOfRangeAreRejected() {
        assertThrows(OptionException.class, () -> PluginOptions.resolve(plugin.options(), Map.of("percentile", "80")));
        assertThrows(OptionException.class, () -> PluginOptions.resolve(plugin.options(), Map.of("calibration", "kl")));
    }

    @Test
    void aModelItQuantizedIsNotQuantizedAgain() throws Exception {
        OnnxModel once = apply(cnn, images(4, 5, 1, 3, 16, 16), Map.of()).model();
        PluginResult twice = apply(once, images(4, 5, 1, 3, 16, 16), Map.of());
        assertSame(once, twice.model());
        assertTrue(twice.changes().get(0).startsWith("nothing to do"), twice.changes().toString());
        PluginResult withoutData = plugin.apply(once, PluginOptions.resolve(plugin.options(), Map.of()),
                Models.context(QuantizedFormat.QDQ));
        assertSame(once, withoutData.model(), "a quantized model needs no calibration data to be left alone");
    }
}

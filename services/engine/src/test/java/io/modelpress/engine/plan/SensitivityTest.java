package io.modelpress.engine.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.ProgressListener;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.MnistModels;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SensitivityTest {

    private final OnnxModel mnist = MnistModels.mlp();
    private final List<Map<String, TensorData>> digits = samples(MnistModels.calibration("pixels", 8000, 8400, 100));

    @Test
    void everyLargeWeightIsRankedMostSensitiveFirst() {
        List<Sensitivity.Layer> layers = Sensitivity.analyze(mnist, Sensitivity.Mode.INT4, digits, ProgressListener.NONE);
        assertEquals(List.of("fc1.weight", "fc2.weight", "fc3.weight"), layers.stream().map(Sensitivity.Layer::weight).sorted().toList(),
                "the three Gemm weights of at least 1,024 elements; biases are smaller");
        for (int i = 1; i < layers.size(); i++) {
            assertTrue(layers.get(i - 1).drop() >= layers.get(i).drop(), "sorted by drop");
        }
        layers.forEach(layer -> assertEquals(List.of("Gemm " + layer.weight().replace(".weight", "")), layer.readers()));
    }

    @Test
    void coarserDegradationCostsMore() {
        Map<String, Sensitivity.Layer> int8 = byWeight(Sensitivity.analyze(mnist, Sensitivity.Mode.INT8, digits, ProgressListener.NONE));
        Map<String, Sensitivity.Layer> int4 = byWeight(Sensitivity.analyze(mnist, Sensitivity.Mode.INT4, digits, ProgressListener.NONE));
        for (String weight : int8.keySet()) {
            assertTrue(int8.get(weight).meanCosine() > int4.get(weight).meanCosine(),
                    weight + ": int8 keeps more fidelity than int4");
            assertTrue(int8.get(weight).meanCosine() > 0.999, weight + " at int8: " + int8.get(weight));
        }
    }

    private static Map<String, Sensitivity.Layer> byWeight(List<Sensitivity.Layer> layers) {
        return layers.stream().collect(Collectors.toMap(Sensitivity.Layer::weight, Function.identity()));
    }

    private static List<Map<String, TensorData>> samples(CalibrationData data) {
        return IntStream.range(0, data.size()).mapToObj(data::sample).toList();
    }
}
